package main

import (
	"os"
	"strings"
	"testing"

	"github.com/goodfaith/goodfaith/internal/directory"
)

// With no flags the server prints the URLs of the demo clinic page, the
// provider console and the clinic dashboard (API.md, "Local server"); -dev
// adds the provider-token route.
func TestBannerNamesThePagesWithAndWithoutDev(t *testing.T) {
	raw, err := os.ReadFile("demo-seed.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := directory.ParseSeed(raw)
	if err != nil {
		t.Fatal(err)
	}
	const base = "http://127.0.0.1:8080"
	for _, dev := range []bool{false, true} {
		var out strings.Builder
		printBanner(&out, base, "./goodfaith-data", seed, dev)
		for _, want := range []string{
			"http://localhost:8080/demo/",
			base + "/console/",
			base + "/dashboard/",
			base + "/widget/goodfaith.js",
			"pk_test_glow",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("dev=%v: the banner does not name %s:\n%s", dev, want, out.String())
			}
		}
		if got := strings.Contains(out.String(), base+"/dev/token"); got != dev {
			t.Errorf("dev=%v: the banner names /dev/token: %v", dev, got)
		}
	}
}
