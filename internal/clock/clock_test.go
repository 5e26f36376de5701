package clock

import (
	"testing"
	"time"
)

func TestFixedAfterFiresWhenMoved(t *testing.T) {
	start := time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)
	f := NewFixed(start)
	c10 := After(f, 10*time.Second)
	c20 := f.After(20 * time.Second)
	f.Advance(9 * time.Second)
	select {
	case <-c10:
		t.Fatal("fired before its time")
	default:
	}
	f.Advance(time.Second)
	if got := <-c10; !got.Equal(start.Add(10 * time.Second)) {
		t.Fatalf("fired with %v", got)
	}
	select {
	case <-c20:
		t.Fatal("the later one fired too")
	default:
	}
	f.Set(start.Add(time.Hour))
	<-c20
	select {
	case <-f.After(0):
	default:
		t.Fatal("After(0) did not fire at once")
	}
}
