package ssocache

import (
	"context"
	"testing"
)

// BenchmarkUpdateToken is one locked read-modify-write: lock, read, parse, marshal, temp file, fsync, rename.
func BenchmarkUpdateToken(b *testing.B) {
	d := Dir{Path: b.TempDir()}
	key := TokenKey("corp")
	if err := d.SaveToken(key, sampleToken()); err != nil {
		b.Fatal(err)
	}
	inc := increment("bench")
	for b.Loop() {
		if _, err := d.UpdateToken(context.Background(), key, inc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadToken is one unlocked read and parse, what status does per file.
func BenchmarkLoadToken(b *testing.B) {
	d := Dir{Path: b.TempDir()}
	key := TokenKey("corp")
	if err := d.SaveToken(key, sampleToken()); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := d.LoadToken(key); err != nil {
			b.Fatal(err)
		}
	}
}
