package httpapi

import (
	"strings"
	"testing"
)

// The dev sign-in page is rendered without html/template (see
// renderDevAuthorize): every value must still come out escaped, in text and
// in attributes, and the hidden fields must carry the request back.
func TestDevAuthorizePageEscapesEveryValue(t *testing.T) {
	var b strings.Builder
	renderDevAuthorize(&b, "provider console", `Sign in as <b>`, `<script>alert(1)</script>`,
		map[string]string{"state": `"><script>x</script>`, "client_id": "console"},
		[]devSubjectView{{ID: `prov"a`, Label: `Dr <i>A</i> & co`}})
	page := b.String()
	for _, bad := range []string{"<script>", `"><script`, "<b>", "<i>", `prov"a`} {
		if strings.Contains(page, bad) {
			t.Errorf("page holds %q unescaped:\n%s", bad, page)
		}
	}
	for _, want := range []string{
		`<input type="hidden" name="client_id" value="console"><input type="hidden" name="state" value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;">`,
		`<button type="submit" name="subject" value="prov&#34;a">Dr &lt;i&gt;A&lt;/i&gt; &amp; co</button>`,
		`<p class="err" role="alert">&lt;script&gt;alert(1)&lt;/script&gt;</p>`,
		`<h1>Sign in to the provider console</h1>`,
		`<legend>Sign in as &lt;b&gt;</legend>`,
		"<style>" + devAuthorizeCSS + "</style>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s:\n%s", want, page)
		}
	}
	b.Reset()
	renderDevAuthorize(&b, "clinic dashboard", "x", "", nil, nil)
	if strings.Contains(b.String(), `class="err"`) {
		t.Error("an error paragraph without an error")
	}
}
