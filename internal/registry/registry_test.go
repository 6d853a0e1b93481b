package registry

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestPublishListRemove(t *testing.T) {
	d := In(t.TempDir())
	now := time.Now()
	me := Keeper{PID: os.Getpid(), Command: "exec", Endpoint: "http://127.0.0.1:1", StartedAt: now, UpdatedAt: now,
		Profiles: []Profile{{Profile: "dev", Requests: 3, LoginPending: true, UserCode: "ABCD-EFGH"}}}
	if err := d.Publish(me); err != nil {
		t.Fatal(err)
	}
	ks, err := d.List(now)
	if err != nil || len(ks) != 1 || ks[0].Profiles[0].UserCode != "ABCD-EFGH" {
		t.Fatalf("%+v %v", ks, err)
	}
	if st, _ := os.Stat(d.file(me.PID)); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	d.Remove(me.PID)
	if ks, _ := d.List(now); len(ks) != 0 {
		t.Errorf("after Remove: %+v", ks)
	}
}

func TestDeadProcessesAreDropped(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("liveness comes from refreshes on Windows")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	d := In(t.TempDir())
	now := time.Now()
	d.Publish(Keeper{PID: cmd.Process.Pid, Command: "serve", UpdatedAt: now})
	if ks, _ := d.List(now); len(ks) != 0 {
		t.Errorf("a dead process is listed: %+v", ks)
	}
	if _, err := os.Stat(d.file(cmd.Process.Pid)); err == nil {
		t.Error("the dead entry was not removed")
	}
}
