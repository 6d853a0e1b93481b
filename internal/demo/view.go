package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ssokeep/ssokeep/internal/emulator"
	"github.com/ssokeep/ssokeep/internal/termui"
)

// seg is a run of text in one colour; a line is a list of them, cut at the
// terminal's width by rune count (every symbol used is one cell wide).
type seg struct {
	text string
	c    termui.Color
}

func line(width int, color bool, segs ...seg) string {
	var b strings.Builder
	n := 0
	for _, s := range segs {
		t := s.text
		if r := utf8.RuneCountInString(t); n+r > width {
			t = string([]rune(t)[:max(width-n, 0)])
		}
		n += utf8.RuneCountInString(t)
		b.WriteString(termui.Paint(t, s.c, color))
		if n >= width {
			break
		}
	}
	return b.String()
}

var marks = map[Mark]seg{
	MarkInfo: {"·", termui.Dim}, MarkRotate: {"↻", termui.Green}, MarkSession: {"+", termui.Green},
	MarkWarn: {"!", termui.Yellow}, MarkEnded: {"✗", termui.Red}, MarkNotify: {"»", termui.Yellow},
	MarkApproved: {"✓", termui.Green},
}

// secs shows a clock's time left: tenths for short lifetimes, where whole
// seconds would jump.
func secs(d, life time.Duration) string {
	if life < 20*time.Second {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return termui.Duration(d.Round(time.Second))
}

// short shows a schedule's lifetime: 2.5s, 15s, 1m.
func short(d time.Duration) string {
	if d < 20*time.Second {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", d.Seconds()), ".0") + "s"
	}
	return termui.Duration(d.Round(time.Second))
}

// bar draws a clock: filled for the share of its life left, coloured by it.
func bar(c Clock, now time.Time, w int) []seg {
	frac := 0.0
	if c.Life > 0 {
		frac = float64(c.Left(now)) / float64(c.Life)
	}
	frac = min(max(frac, 0), 1)
	full := int(frac*float64(w) + 0.5)
	col := termui.Green
	switch {
	case frac < 0.2:
		col = termui.Red
	case frac < 0.5:
		col = termui.Yellow
	}
	return []seg{{strings.Repeat("█", full), col}, {strings.Repeat("░", w-full), termui.Dim}}
}

// Frame draws the live view: the three clocks as bars, the job's counts, a
// pending login as the notification a person would get, and as much of the
// timeline as fits. It returns at most height lines of at most width cells.
func Frame(s Snapshot, width, height int, color bool) []string {
	width = max(width, 40)
	var out []string
	add := func(segs ...seg) { out = append(out, line(width, color, segs...)) }

	elapsed := s.since(s.Now)
	if s.JobStarted && s.Job.Workers > 0 { // the sample job's length is known; a command's is not
		elapsed += " of " + strings.TrimPrefix(s.since(s.JobStart.Add(s.Schedule.Job)), "+")
	}
	title := "ssokeep demo · a job that outlives its AWS sign-in session"
	pad := max(width-utf8.RuneCountInString(title)-utf8.RuneCountInString(elapsed)-2, 1)
	add(seg{" " + title, termui.Bold}, seg{strings.Repeat(" ", pad) + elapsed, termui.Plain})
	sc := s.Schedule
	add(seg{fmt.Sprintf(" emulator %s · endpoint %s · ×%g: session %s, token %s, role credentials %s",
		strings.TrimPrefix(s.Emulator, "http://"), strings.TrimPrefix(s.Endpoint, "http://"), sc.Speed,
		short(sc.Session), short(sc.Token), short(sc.Role)), termui.Dim})
	add()

	barW := min(max(width-62, 10), 40)
	clock := func(label string, c Clock, note string, over bool) {
		segs := []seg{{fmt.Sprintf("   %-17s ", label), termui.Plain}}
		segs = append(segs, bar(c, s.Now, barW)...)
		if over {
			segs = append(segs, seg{"  over: waiting for a login", termui.Red})
		} else if c.Life > 0 {
			segs = append(segs, seg{fmt.Sprintf(" %6s of %-5s", secs(c.Left(s.Now), c.Life), secs(c.Life, c.Life)), termui.Plain})
		}
		add(append(segs, seg{"  " + note, termui.Dim})...)
	}
	clock("role credentials", s.Creds, fmt.Sprintf("rotated %d×", max(s.Rotations-1, 0)), false)
	clock("access token", s.Token, fmt.Sprintf("refreshed %d×", s.Refreshes), false)
	clock("sign-in session", s.Session, fmt.Sprintf("ended %d×, %d logins approved", s.SessionEnds, s.Logins), s.SessionOver)
	add()

	switch {
	case s.Job.Workers > 0:
		failCol := termui.Green
		if s.Job.Failed > 0 {
			failCol = termui.Red
		}
		add(seg{"   job  ", termui.Bold}, seg{fmt.Sprintf("%d calls", s.Job.Calls), termui.Plain},
			seg{fmt.Sprintf("  %d failed", s.Job.Failed), failCol},
			seg{fmt.Sprintf("  %d objects  · %s", s.Job.Keys, s.JobLabel), termui.Dim})
	case s.JobStarted:
		failCol := termui.Green
		if s.EmulatorRefused > 0 {
			failCol = termui.Red
		}
		add(seg{"   job  ", termui.Bold}, seg{fmt.Sprintf("%d AWS calls", s.EmulatorCalls), termui.Plain},
			seg{fmt.Sprintf("  %d refused", s.EmulatorRefused), failCol}, seg{"  · " + s.JobLabel, termui.Dim})
	default:
		add(seg{"   job  ", termui.Bold}, seg{"not started yet: logging in first", termui.Dim})
	}
	for _, o := range s.Output {
		add(seg{"        │ " + o, termui.Dim})
	}
	add()

	if p := s.Pending; p != nil {
		inner := width - 4
		border := func(l, r string, title string) {
			add(seg{" " + l + title + strings.Repeat("─", max(inner-utf8.RuneCountInString(title), 0)) + r, termui.Yellow})
		}
		row := func(text string, c termui.Color) {
			t := []rune(text)
			if len(t) > inner-2 {
				t = t[:inner-2]
			}
			add(seg{" │ ", termui.Yellow}, seg{string(t) + strings.Repeat(" ", inner-2-len(t)), c}, seg{" │", termui.Yellow})
		}
		if p.First {
			border("┌", "┐", " login, as `ssokeep login` shows it ")
			row("To log in to session "+emulator.SessionName+", open this URL on any device and approve the code:", termui.Plain)
		} else {
			border("┌", "┐", " notification: desktop, phone webhook, command hook ")
			row(fmt.Sprintf("AWS login required (emulator): approve code %s before the job runs out (in %s)", p.Code,
				secs(max(p.Deadline.Sub(s.Now), 0), sc.Role)), termui.Bold)
		}
		row(p.URL+"   code: "+p.Code, termui.Plain)
		if wait := p.ApproveAt.Sub(s.Now); wait > 0 {
			row(fmt.Sprintf("the demo approves it in %s, as you would on the page", secs(wait, time.Second)), termui.Dim)
		} else {
			row("approved on the page; ssokeep collects the token at its next poll", termui.Dim)
		}
		border("└", "┘", "")
	}

	add(seg{" timeline", termui.Bold})
	room := height - len(out) - 1
	ents := s.Entries
	if room < len(ents) {
		ents = ents[max(len(ents)-room, 0):]
	}
	for _, e := range ents {
		m := marks[e.Mark]
		add(seg{" " + s.since(e.At) + " ", termui.Dim}, m, seg{" " + e.Text, termui.Plain})
	}
	if len(out) > height {
		out = out[:height]
	}
	return out
}

// EntryLine is one timeline entry as the line view prints it.
func EntryLine(start time.Time, e Entry, color bool) string {
	m := marks[e.Mark]
	return (&Snapshot{Start: start}).since(e.At) + " " + termui.Paint(m.text, m.c, color) + " " + e.Text
}

// StatusLine is the line view's periodic summary of the clocks and the job.
func StatusLine(s Snapshot) string {
	job := fmt.Sprintf("job %d calls, %d failed", s.Job.Calls, s.Job.Failed)
	if s.Job.Workers == 0 {
		job = fmt.Sprintf("job %d AWS calls, %d refused", s.EmulatorCalls, s.EmulatorRefused)
	}
	session := secs(s.Session.Left(s.Now), s.Session.Life) + " left"
	if s.SessionOver {
		session = "over"
	}
	return fmt.Sprintf("%s · %s · role credentials %s left · token %s left · session %s", s.since(s.Now), job,
		secs(s.Creds.Left(s.Now), s.Creds.Life), secs(s.Token.Left(s.Now), s.Token.Life), session)
}

// Terminal control for the live view: the alternate screen, so the user's
// scrollback is left as it was; a hidden cursor; each frame drawn from the
// top-left corner, every line cleared to its end and everything below the
// frame cleared, so nothing flickers and nothing stale remains.
const (
	enterScreen = "\x1b[?1049h\x1b[?25l"
	leaveScreen = "\x1b[?25h\x1b[?1049l"
	home        = "\x1b[H"
	clearEOL    = "\x1b[K"
	clearBelow  = "\x1b[J"
)

// live draws frames on a terminal.
type live struct {
	w     io.Writer
	size  func() (int, int)
	color bool
}

func (l *live) start() { io.WriteString(l.w, enterScreen) }

// stop gives the terminal back as it was.
func (l *live) stop() { io.WriteString(l.w, leaveScreen) }

func (l *live) draw(s Snapshot) {
	w, h := l.size()
	// One cell short of the edge: a character in the last column leaves the
	// cursor there, and clearing to the end of the line would erase it.
	w--
	var b strings.Builder
	b.WriteString(home)
	for i, ln := range Frame(s, w, h, l.color) {
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString(ln)
		b.WriteString(clearEOL)
	}
	b.WriteString(clearBelow)
	io.WriteString(l.w, b.String())
}

// viewer runs the view for the length of a demo: the live view redrawn a
// few times a second, or the line view printing each entry as it comes and a
// status line now and then.
type viewer struct {
	o       Options
	st      *state
	out     io.Writer // Out, one whole line per write
	jobOut  io.Writer
	live    *live
	counter atomic.Pointer[callCounter]

	stopTick context.CancelFunc
	done     chan struct{}
	once     sync.Once
}

func startView(o Options, st *state) *viewer {
	out := &lockedWriter{w: o.Out}
	v := &viewer{o: o, st: st, out: out, jobOut: out, done: make(chan struct{})}
	if o.JobOutput != o.Out {
		v.jobOut = &lockedWriter{w: o.JobOutput}
	}
	if o.Live {
		v.live = &live{w: out, size: o.Size, color: o.Color}
		v.live.start()
	} else {
		start := st.Snapshot().Start
		st.mu.Lock()
		st.onEntry = func(e Entry) { fmt.Fprintln(out, EntryLine(start, e, o.Color)) }
		st.mu.Unlock()
	}
	ctx, cancel := context.WithCancel(context.Background())
	v.stopTick = cancel
	go v.loop(ctx)
	return v
}

// statusEvery is how often the line view prints the clocks: four times a
// session, at most every 5 s.
func (v *viewer) statusEvery() time.Duration { return max(v.o.Schedule.Session/4, 5*time.Second) }

func (v *viewer) loop(ctx context.Context) {
	defer close(v.done)
	t := time.NewTicker(v.o.Redraw)
	defer t.Stop()
	next := v.o.Now().Add(v.statusEvery())
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c := v.counter.Load(); c != nil {
			v.st.EmulatorCalls(c.calls.Load(), c.refused.Load())
		}
		s := v.st.Snapshot()
		switch {
		case v.live != nil:
			v.live.draw(s)
		case !s.Now.Before(next) && s.JobStarted && !s.JobDone:
			fmt.Fprintln(v.out, StatusLine(s))
			next = s.Now.Add(v.statusEvery())
		}
	}
}

// output shows a line the job printed.
func (v *viewer) output(line string) {
	if v.live != nil {
		v.st.Output(line)
		return
	}
	fmt.Fprintln(v.jobOut, line)
}

// finish ends the view at the job's end: the live view leaves the
// alternate screen and prints its last frame where it stays readable.
func (v *viewer) finish() {
	v.once.Do(func() {
		v.stopTick()
		<-v.done
		if v.live == nil {
			return
		}
		v.live.stop()
		// The last frame stays on the screen: it keeps the story (sessions,
		// notifications, logins) and leaves the routine refreshes to the
		// counts, short enough that the summary below leaves its top in view.
		s := v.st.Snapshot()
		story := s.Entries[:0]
		for _, e := range s.Entries {
			if e.Mark != MarkRotate {
				story = append(story, e)
			}
		}
		s.Entries = story
		w, h := v.o.Size()
		io.WriteString(v.out, strings.Join(Frame(s, w-1, max(h-8, 16), v.o.Color), "\n")+"\n")
	})
}

// stop ends the view however the demo ends, and gives the terminal back.
func (v *viewer) stop() {
	v.once.Do(func() {
		v.stopTick()
		<-v.done
		if v.live != nil {
			v.live.stop()
		}
	})
}

// lockedWriter lets the view, the job's output and the entries share one
// writer line by line.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
