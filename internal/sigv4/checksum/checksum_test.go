package checksum

import (
	"encoding/base64"
	"encoding/hex"
	"hash/crc32"
	"strings"
	"testing"
)

func TestKnownValues(t *testing.T) {
	// Check values of the CRC catalogue ("123456789") and FIPS 180 ("abc").
	for alg, want := range map[string]string{
		"CRC32":     "cbf43926",
		"CRC32C":    "e3069283",
		"CRC64NVME": "ae8b14860a799888",
	} {
		s, ok := Sum(alg, []byte("123456789"))
		raw, _ := base64.StdEncoding.DecodeString(s)
		if !ok || hex.EncodeToString(raw) != want {
			t.Errorf("%s = %x, want %s", alg, raw, want)
		}
	}
	s, _ := Sum("SHA256", []byte("abc"))
	raw, _ := base64.StdEncoding.DecodeString(s)
	if hex.EncodeToString(raw) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("SHA256 = %x", raw)
	}
	// S3's composite: checksum of the raw part checksums, "-N".
	a, _ := Sum("CRC32", []byte("part one"))
	b, _ := Sum("CRC32", []byte("part two"))
	ra, _ := base64.StdEncoding.DecodeString(a)
	rb, _ := base64.StdEncoding.DecodeString(b)
	c := crc32.ChecksumIEEE(append(ra, rb...))
	want := base64.StdEncoding.EncodeToString([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)}) + "-2"
	if got, _ := Composite("CRC32", []string{a, b}); got != want {
		t.Errorf("composite %s, want %s", got, want)
	}
	if AlgorithmOf("X-Amz-Checksum-Crc64nvme") != "CRC64NVME" || AlgorithmOf("x-amz-checksum-mode") != "" {
		t.Error("AlgorithmOf")
	}
	if _, ok := New("XXHASH3"); ok {
		t.Error("unknown algorithm accepted")
	}
	if !strings.EqualFold(HeaderName("CRC32C"), "x-amz-checksum-crc32c") {
		t.Error("HeaderName")
	}
}
