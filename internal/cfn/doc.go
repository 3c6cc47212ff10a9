// Package cfn reads CloudFormation templates written in YAML into plain Go
// values, for the tests that hold the project's templates (template.yaml,
// infra/turn/template.yaml) to their rules. The short forms of the
// intrinsic functions (!Ref X, !GetAtt A.B, !Sub s, !If […] …) become
// their long JSON forms ({"Ref": "X"}, {"Fn::GetAtt": ["A", "B"]},
// {"Fn::Sub": "s"} …), so a test reads one shape whichever form a template
// author chose.
package cfn
