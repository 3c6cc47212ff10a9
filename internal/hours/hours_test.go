package hours

import (
	"testing"
	"time"
)

func TestOpenAtAndNextOpenInTheClinicsZone(t *testing.T) {
	w, err := Parse("America/Chicago", map[string][]string{"mon": {"09:00", "18:00"}, "sat": {"10:00", "14:00"}})
	if err != nil {
		t.Fatal(err)
	}
	chi, _ := time.LoadLocation("America/Chicago")
	cases := []struct {
		at       time.Time
		open     bool
		nextOpen time.Time
	}{
		{time.Date(2026, 11, 23, 9, 0, 0, 0, chi), true, time.Date(2026, 11, 23, 9, 0, 0, 0, chi)},     // Monday opening minute
		{time.Date(2026, 11, 23, 17, 59, 0, 0, chi), true, time.Date(2026, 11, 23, 17, 59, 0, 0, chi)}, // last minute
		{time.Date(2026, 11, 23, 18, 0, 0, 0, chi), false, time.Date(2026, 11, 28, 10, 0, 0, 0, chi)},  // closed: Saturday next
		{time.Date(2026, 11, 23, 8, 59, 0, 0, chi), false, time.Date(2026, 11, 23, 9, 0, 0, 0, chi)},
		{time.Date(2026, 11, 28, 15, 0, 0, 0, chi), false, time.Date(2026, 11, 30, 9, 0, 0, 0, chi)}, // Sat after close → Monday
		// 15:30 UTC on a Monday is 09:30 in Chicago (UTC-6 in November).
		{time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC), true, time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		if got := w.OpenAt(c.at); got != c.open {
			t.Errorf("OpenAt(%v) = %v", c.at, got)
		}
		if got, ok := w.NextOpen(c.at); !ok || !got.Equal(c.nextOpen) {
			t.Errorf("NextOpen(%v) = %v %v, want %v", c.at, got, ok, c.nextOpen)
		}
	}
}

func TestNoHoursIsAlwaysOpenAndBadHoursAreRefused(t *testing.T) {
	w, err := Parse("", nil)
	if err != nil || !w.Always() || !w.OpenAt(time.Now()) {
		t.Fatalf("no hours: %+v %v", w, err)
	}
	for _, bad := range []map[string][]string{{"monday": {"09:00", "10:00"}}, {"mon": {"10:00", "09:00"}}, {"mon": {"9am", "5pm"}}, {"mon": {"09:00"}}} {
		if _, err := Parse("UTC", bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := Parse("Mars/Olympus", nil); err == nil {
		t.Error("unknown zone accepted")
	}
}
