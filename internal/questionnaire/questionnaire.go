package questionnaire

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/goodfaith/goodfaith/internal/fault"
)

// Item types used here (a FHIR R4 subset).
const (
	TypeGroup      = "group"
	TypeDisplay    = "display"
	TypeBoolean    = "boolean"
	TypeString     = "string"
	TypeText       = "text"
	TypeInteger    = "integer"
	TypeDecimal    = "decimal"
	TypeDate       = "date"
	TypeChoice     = "choice"
	TypeAttachment = "attachment"
)

// Questionnaire is one category's medical history.
type Questionnaire struct {
	ResourceType string   `json:"resourceType"`
	ID           string   `json:"id"`
	Version      string   `json:"version"`
	Title        string   `json:"title"`
	TitleExt     *Element `json:"_title,omitempty"`
	Status       string   `json:"status"`
	Sources      []Source `json:"sources"`
	Item         []Item   `json:"item"`
}

// Source cites the labelling or rule a questionnaire screens for.
type Source struct {
	Citation   string `json:"citation"`
	URL        string `json:"url"`
	Confidence string `json:"confidence"`
}

// Item is one question, display text or group.
type Item struct {
	LinkID       string         `json:"linkId"`
	Text         string         `json:"text"`
	TextExt      *Element       `json:"_text,omitempty"`
	Type         string         `json:"type"`
	Required     bool           `json:"required,omitempty"`
	AnswerOption []AnswerOption `json:"answerOption,omitempty"`
	EnableWhen   []EnableWhen   `json:"enableWhen,omitempty"`
	Item         []Item         `json:"item,omitempty"`
	// Flag marks an answer the provider must see first (a contraindication
	// or warning on the product's labelling). Not part of FHIR.
	Flag *FlagRule `json:"flag,omitempty"`
}

// AnswerOption is a permitted choice: a coding or a plain string.
type AnswerOption struct {
	ValueCoding    *Coding  `json:"valueCoding,omitempty"`
	ValueString    *string  `json:"valueString,omitempty"`
	ValueStringExt *Element `json:"_valueString,omitempty"`
}

// Coding names a choice.
type Coding struct {
	Code       string   `json:"code"`
	Display    string   `json:"display"`
	DisplayExt *Element `json:"_display,omitempty"`
}

// TranslationURL is FHIR's extension for a string element's text in
// another language: {"url": TranslationURL, "extension": [{"url": "lang",
// "valueCode": "es"}, {"url": "content", "valueString": "…"}]}.
const TranslationURL = "http://hl7.org/fhir/StructureDefinition/translation"

// Element carries the extensions of a primitive element (FHIR JSON puts
// them in "_<name>" next to the value): here, its translations.
type Element struct {
	Extension []Extension `json:"extension,omitempty"`
}

// Extension is a FHIR extension (the subset translations use).
type Extension struct {
	URL         string      `json:"url"`
	Extension   []Extension `json:"extension,omitempty"`
	ValueCode   string      `json:"valueCode,omitempty"`
	ValueString string      `json:"valueString,omitempty"`
}

// Translation returns the element's text in lang ("" when there is none).
func (e *Element) Translation(lang string) string {
	if e == nil {
		return ""
	}
	for _, x := range e.Extension {
		if x.URL != TranslationURL {
			continue
		}
		var l, content string
		for _, part := range x.Extension {
			switch part.URL {
			case "lang":
				l = part.ValueCode
			case "content":
				content = part.ValueString
			}
		}
		if l == lang {
			return content
		}
	}
	return ""
}

// EnableWhen shows an item only when another item has an answer
// (operator "=" only).
type EnableWhen struct {
	Question      string  `json:"question"`
	Operator      string  `json:"operator"`
	AnswerBoolean *bool   `json:"answerBoolean,omitempty"`
	AnswerCoding  *Coding `json:"answerCoding,omitempty"`
	AnswerString  *string `json:"answerString,omitempty"`
}

// FlagRule raises a flag when the answer equals When (a boolean or a
// choice code).
type FlagRule struct {
	When    any    `json:"when"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

// Flag is a raised flag.
type Flag struct {
	Code    string `json:"code"`
	Display string `json:"display"`
	LinkID  string `json:"link_id"`
}

//go:embed data/*.json
var files embed.FS

// Set holds a questionnaire per treatment category.
type Set struct {
	byCategory func() map[string]Questionnaire
}

// Default returns the questionnaires shipped with this build. They are
// decoded on first use, once per process: a Lambda function whose requests
// never ask for a questionnaire (the JWKS, signaling, webhooks) should not
// pay for decoding them at every cold start. The package tests decode them,
// so a bad file fails the build's tests, not a request.
func Default() *Set { return &Set{byCategory: embeddedSet} }

var embeddedSet = sync.OnceValue(func() map[string]Questionnaire {
	entries, err := files.ReadDir("data")
	if err != nil {
		panic(err)
	}
	byCategory := map[string]Questionnaire{}
	for _, e := range entries {
		raw, err := files.ReadFile(path.Join("data", e.Name()))
		if err != nil {
			panic(err)
		}
		var q Questionnaire
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&q); err != nil {
			panic(fmt.Sprintf("questionnaire %s: %v", e.Name(), err)) // caught by the package tests
		}
		byCategory[strings.TrimSuffix(e.Name(), ".json")] = q
	}
	return byCategory
})

// Preload decodes the set now, if it has not been, so that a caller that
// will consult it soon (the widget config) can do so in the background
// while it waits on other work.
func (s *Set) Preload() { s.byCategory() }

// For returns the questionnaire of a category.
func (s *Set) For(category string) (Questionnaire, bool) {
	q, ok := s.byCategory()[category]
	return q, ok
}

// Form is the merged set of questions an exam asks: the questionnaires of
// its categories, each linkId once.
type Form struct {
	items []Item // flattened, groups expanded, first occurrence of a linkId kept
	index map[string]Item
}

// FormFor merges the questionnaires of the categories.
func (s *Set) FormFor(categories []string) Form {
	f := Form{index: map[string]Item{}}
	var walk func(items []Item)
	walk = func(items []Item) {
		for _, it := range items {
			if it.Type == TypeGroup {
				walk(it.Item)
				continue
			}
			if it.Type == TypeDisplay {
				continue
			}
			if prev, seen := f.index[it.LinkID]; seen {
				// A repeated question is required if any copy is.
				prev.Required = prev.Required || it.Required
				f.index[it.LinkID] = prev
				continue
			}
			f.index[it.LinkID] = it
			f.items = append(f.items, it)
		}
	}
	for _, c := range categories {
		if q, ok := s.byCategory()[c]; ok {
			walk(q.Item)
		}
	}
	return f
}

// Answers are a patient's answers by linkId, already type-checked.
type Answers map[string]any

// Parse checks raw answers against the form: every linkId known, every
// value of its item's type. Attachment answers are lists of attachment ids.
func (f Form) Parse(raw map[string]json.RawMessage) (Answers, error) {
	out := Answers{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the first bad answer deterministically
	for _, link := range keys {
		field := "answers." + link
		it, ok := f.index[link]
		if !ok {
			return nil, fault.Invalid("unknown_question", field, "no question has this linkId")
		}
		v, err := parseValue(it, raw[link])
		if err != nil {
			return nil, fault.Invalid("invalid_answer", field, err.Error())
		}
		if v != nil {
			out[link] = v
		}
	}
	return out, nil
}

func parseValue(it Item, raw json.RawMessage) (any, error) {
	if string(raw) == "null" {
		return nil, nil
	}
	switch it.Type {
	case TypeBoolean:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("answer true or false")
		}
		return b, nil
	case TypeString, TypeText:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("answer with text")
		}
		limit := 200
		if it.Type == TypeText {
			limit = 4000
		}
		if len(s) > limit {
			return nil, fmt.Errorf("answer is longer than %d characters", limit)
		}
		return s, nil
	case TypeInteger:
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("answer with a whole number")
		}
		return n, nil
	case TypeDecimal:
		var n float64
		if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > 1e6 {
			return nil, fmt.Errorf("answer with a number")
		}
		return n, nil
	case TypeDate:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("answer with a date YYYY-MM-DD")
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return nil, fmt.Errorf("answer with a date YYYY-MM-DD")
		}
		return s, nil
	case TypeChoice:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !it.allows(s) {
			return nil, fmt.Errorf("answer with one of the offered choices")
		}
		return s, nil
	case TypeAttachment:
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil || len(ids) > 20 {
			return nil, fmt.Errorf("answer with a list of up to 20 attachment ids")
		}
		return ids, nil
	}
	return nil, fmt.Errorf("question type %q cannot be answered", it.Type)
}

func (it Item) allows(code string) bool {
	for _, o := range it.AnswerOption {
		if o.ValueCoding != nil && o.ValueCoding.Code == code || o.ValueString != nil && *o.ValueString == code {
			return true
		}
	}
	return false
}

// enabled evaluates an item's enableWhen against the answers (all must hold).
func (f Form) enabled(it Item, a Answers) bool {
	for _, w := range it.EnableWhen {
		got, ok := a[w.Question]
		if !ok {
			return false
		}
		switch {
		case w.AnswerBoolean != nil:
			if b, ok := got.(bool); !ok || b != *w.AnswerBoolean {
				return false
			}
		case w.AnswerCoding != nil:
			if s, ok := got.(string); !ok || s != w.AnswerCoding.Code {
				return false
			}
		case w.AnswerString != nil:
			if s, ok := got.(string); !ok || s != *w.AnswerString {
				return false
			}
		}
	}
	return true
}

// FirstMissing returns the field of the first required, enabled question
// without an answer, in questionnaire order, or "" when none is missing.
func (f Form) FirstMissing(a Answers) string {
	for _, it := range f.items {
		if !it.Required || !f.enabled(it, a) {
			continue
		}
		v, ok := a[it.LinkID]
		if !ok {
			return "answers." + it.LinkID
		}
		if s, isString := v.(string); isString && strings.TrimSpace(s) == "" {
			return "answers." + it.LinkID
		}
	}
	return ""
}

// Flags lists the flags the answers raise, in questionnaire order.
func (f Form) Flags(a Answers) []Flag {
	var out []Flag
	for _, it := range f.items {
		if it.Flag == nil || !f.enabled(it, a) {
			continue
		}
		if v, ok := a[it.LinkID]; ok && v == it.Flag.When {
			out = append(out, Flag{Code: it.Flag.Code, Display: it.Flag.Display, LinkID: it.LinkID})
		}
	}
	return out
}

// AttachmentIDs lists the attachment ids named in attachment answers.
func (f Form) AttachmentIDs(a Answers) []string {
	var out []string
	for _, it := range f.items {
		if it.Type != TypeAttachment {
			continue
		}
		if ids, ok := a[it.LinkID].([]string); ok {
			out = append(out, ids...)
		}
	}
	return out
}
