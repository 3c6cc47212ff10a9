package routing

import (
	"testing"
	"time"

	"github.com/goodfaith/goodfaith/internal/directory"
	"github.com/goodfaith/goodfaith/internal/rules"
)

func TestCheck(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	rs := rules.Default()
	tx, err := rs.ForExam("TX", []string{"neurotoxin"}, now)
	if err != nil {
		t.Fatal(err)
	}
	txT, err := rs.ForExam("TX", []string{"testosterone"}, now)
	if err != nil {
		t.Fatal(err)
	}
	md := directory.Provider{ID: "p", Licenses: []directory.License{{State: "TX", Type: rules.MD, Number: "1", Expires: "2028-01-01"}}, Categories: []string{"neurotoxin", "testosterone"}}
	cases := []struct {
		name  string
		p     func(p directory.Provider) directory.Provider
		rule  rules.Exam
		cats  []string
		state string
		want  Refusal
	}{
		{"eligible", func(p directory.Provider) directory.Provider { return p }, tx, []string{"neurotoxin"}, "TX", Eligible},
		{"other state", func(p directory.Provider) directory.Provider { return p }, tx, []string{"neurotoxin"}, "CA", NoLicenseInState},
		{"expired licence", func(p directory.Provider) directory.Provider {
			p.Licenses = []directory.License{{State: "TX", Type: rules.MD, Expires: "2026-11-21"}}
			return p
		}, tx, []string{"neurotoxin"}, "TX", NoLicenseInState},
		{"licence expiring today is still active", func(p directory.Provider) directory.Provider {
			p.Licenses = []directory.License{{State: "TX", Type: rules.MD, Expires: "2026-11-22"}}
			return p
		}, tx, []string{"neurotoxin"}, "TX", Eligible},
		{"RN never performs", func(p directory.Provider) directory.Provider {
			p.Licenses = []directory.License{{State: "TX", Type: rules.RN, Expires: "2028-01-01"}}
			return p
		}, tx, []string{"neurotoxin"}, "TX", LicenseTypeNotAllowed},
		{"category not credentialed", func(p directory.Provider) directory.Provider { p.Categories = []string{"glp1"}; return p }, tx, []string{"neurotoxin"}, "TX", CategoryNotCredentialed},
		{"controlled without DEA", func(p directory.Provider) directory.Provider { return p }, txT, []string{"testosterone"}, "TX", NoDEAInState},
		{"controlled with DEA", func(p directory.Provider) directory.Provider {
			p.DEARegistrations = []directory.DEARegistration{{State: "TX", Number: "FR1", Expires: "2028-01-01"}}
			return p
		}, txT, []string{"testosterone"}, "TX", Eligible},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Check(c.p(md), c.state, c.cats, c.rule, now); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}
