package cfn_test

import (
	"reflect"
	"testing"

	"github.com/goodfaith/goodfaith/internal/cfn"
)

func TestParseWritesIntrinsicsInTheirLongForms(t *testing.T) {
	root, err := cfn.Parse([]byte(`
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Role: !GetAtt FnRole.Arn
      Name: !Sub "${AWS::StackName}-fn"
      Key: !Ref Key
      Env: !If [HasX, !Ref X, ""]
      Ports: [3478, {"Fn::GetAtt": [A, B]}]
`))
	if err != nil {
		t.Fatal(err)
	}
	props := cfn.Get(root, "Resources", "Fn", "Properties")
	for path, want := range map[string]any{
		"Role": map[string]any{"Fn::GetAtt": []any{"FnRole", "Arn"}},
		"Name": map[string]any{"Fn::Sub": "${AWS::StackName}-fn"},
		"Key":  map[string]any{"Ref": "Key"},
		"Env":  map[string]any{"Fn::If": []any{"HasX", map[string]any{"Ref": "X"}, ""}},
	} {
		if got := cfn.Get(props, path); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", path, got, want)
		}
	}
	if p := cfn.Get(props, "Ports", "0"); p != 3478 {
		t.Errorf("Ports[0] = %#v", p)
	}
	if cfn.Target(cfn.Get(props, "Ports", "1")) != "A" || cfn.Target(cfn.Get(props, "Role")) != "FnRole" || cfn.Target(cfn.Get(props, "Key")) != "Key" {
		t.Error("Target does not name the resource of a Ref or GetAtt")
	}
	if cfn.Get(props, "Missing", "x") != nil || cfn.Get(props, "Ports", "9") != nil || len(cfn.List(nil)) != 0 || len(cfn.List("one")) != 1 {
		t.Error("missing paths and single values")
	}
	if _, err := cfn.Parse([]byte("- a list\n")); err == nil {
		t.Error("a template that is not a mapping was accepted")
	}
}
