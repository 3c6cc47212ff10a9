// Package hours reads a clinic's weekly exam hours in its time zone and
// answers whether the clinic is open at an instant and when it next opens.
// Live video exams run only inside hours; asynchronous exams are accepted
// at any time.
package hours

import (
	"fmt"
	"time"
)

// Week is a clinic's weekly schedule: for each open weekday, one interval
// of local wall-clock time [Open, Close).
type Week struct {
	loc  *time.Location
	days [7]*span // by time.Weekday
	// always: no hours were given, so the clinic is open at all times.
	always bool
}

type span struct{ open, close int } // minutes after local midnight

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// Parse reads the clinic's timezone (IANA name; empty is UTC) and hours
// ({"mon": ["09:00","18:00"], …}; none means open at all times).
func Parse(timezone string, weekly map[string][]string) (Week, error) {
	w := Week{loc: time.UTC, always: len(weekly) == 0}
	if timezone != "" {
		loc, err := time.LoadLocation(timezone)
		if err != nil {
			return Week{}, fmt.Errorf("hours: timezone %q: %w", timezone, err)
		}
		w.loc = loc
	}
	for name, hm := range weekly {
		d, ok := dayNames[name]
		if !ok {
			return Week{}, fmt.Errorf("hours: %q is not a weekday (sun…sat)", name)
		}
		if len(hm) != 2 {
			return Week{}, fmt.Errorf("hours: %s needs [open, close]", name)
		}
		o, err1 := clockMinutes(hm[0])
		c, err2 := clockMinutes(hm[1])
		if err1 != nil || err2 != nil || c <= o {
			return Week{}, fmt.Errorf("hours: %s %v is not an HH:MM interval closing after it opens", name, hm)
		}
		w.days[d] = &span{o, c}
	}
	return w, nil
}

func clockMinutes(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Location is the clinic's time zone.
func (w Week) Location() *time.Location { return w.loc }

// Always reports whether the clinic is open at all times.
func (w Week) Always() bool { return w.always }

// OpenAt reports whether the clinic is open at t.
func (w Week) OpenAt(t time.Time) bool {
	if w.always {
		return true
	}
	lt := t.In(w.loc)
	sp := w.days[lt.Weekday()]
	m := lt.Hour()*60 + lt.Minute()
	return sp != nil && m >= sp.open && m < sp.close
}

// NextOpen returns t when open, else the next opening instant within a
// week, or false when the clinic has no hours at all.
func (w Week) NextOpen(t time.Time) (time.Time, bool) {
	if w.OpenAt(t) {
		return t, true
	}
	lt := t.In(w.loc)
	for i := 0; i <= 7; i++ {
		day := time.Date(lt.Year(), lt.Month(), lt.Day()+i, 0, 0, 0, 0, w.loc)
		sp := w.days[day.Weekday()]
		if sp == nil {
			continue
		}
		open := time.Date(day.Year(), day.Month(), day.Day(), sp.open/60, sp.open%60, 0, 0, w.loc)
		if open.After(t) {
			return open, true
		}
	}
	return time.Time{}, false
}
