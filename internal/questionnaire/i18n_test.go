package questionnaire

import (
	"strings"
	"testing"
)

// TestEveryQuestionnaireSpeaksSpanish: the widget is bilingual, so every
// questionnaire carries Spanish (FHIR's translation extension) for its
// title, every item's text (groups and display items included), and every
// answer option; a linkId shared by several questionnaires reads the same
// in all of them, since the widget asks it once.
func TestEveryQuestionnaireSpeaksSpanish(t *testing.T) {
	s := Default()
	if len(s.byCategory()) == 0 {
		t.Fatal("no questionnaires")
	}
	shared := map[string]string{}
	items := 0
	for cat, q := range s.byCategory() {
		if es := q.TitleExt.Translation("es"); es == "" || es == q.Title {
			t.Errorf("%s: title %q has no Spanish (got %q)", cat, q.Title, es)
		}
		var walk func([]Item)
		walk = func(list []Item) {
			for _, it := range list {
				items++
				es := it.TextExt.Translation("es")
				if strings.TrimSpace(es) == "" {
					t.Errorf("%s/%s: no Spanish text for %q", cat, it.LinkID, it.Text)
				} else if es == it.Text {
					t.Errorf("%s/%s: the Spanish text is the English one", cat, it.LinkID)
				}
				if prev, ok := shared[it.LinkID]; ok && prev != es {
					t.Errorf("%s/%s: Spanish %q differs from another questionnaire's %q", cat, it.LinkID, es, prev)
				}
				shared[it.LinkID] = es
				for i, o := range it.AnswerOption {
					switch {
					case o.ValueCoding != nil && o.ValueCoding.DisplayExt.Translation("es") == "":
						t.Errorf("%s/%s: option %d (%s) has no Spanish display", cat, it.LinkID, i, o.ValueCoding.Code)
					case o.ValueString != nil && o.ValueStringExt.Translation("es") == "":
						t.Errorf("%s/%s: option %d (%q) has no Spanish", cat, it.LinkID, i, *o.ValueString)
					}
				}
				walk(it.Item)
			}
		}
		walk(q.Item)
	}
	if items < 50 {
		t.Fatalf("only %d items checked", items)
	}
}

func TestTranslation(t *testing.T) {
	e := &Element{Extension: []Extension{
		{URL: "http://example.com/other", Extension: []Extension{{URL: "lang", ValueCode: "es"}, {URL: "content", ValueString: "no"}}},
		{URL: TranslationURL, Extension: []Extension{{URL: "lang", ValueCode: "fr"}, {URL: "content", ValueString: "Êtes-vous enceinte ?"}}},
		{URL: TranslationURL, Extension: []Extension{{URL: "content", ValueString: "¿Está embarazada?"}, {URL: "lang", ValueCode: "es"}}},
	}}
	if got := e.Translation("es"); got != "¿Está embarazada?" {
		t.Errorf("es = %q", got)
	}
	if got := e.Translation("de"); got != "" {
		t.Errorf("de = %q", got)
	}
	var none *Element
	if got := none.Translation("es"); got != "" {
		t.Errorf("nil = %q", got)
	}
}
