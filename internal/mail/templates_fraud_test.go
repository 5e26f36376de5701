package mail_test

import (
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/fraud"
	"github.com/storekeep/storekeep/internal/mail"
)

// The fraud review mails (internal/fraud), with the data types their
// sender uses.
func init() {
	samples["fraud_question"] = fraud.QuestionMail{SiteName: "Milterworks", Case: 7, Question: "Did you share the key\nwith colleagues?",
		AnswerURL: "https://shop.example.com/account/reviews/7"}
	samples["fraud_decision"] = fraud.DecisionMail{SiteName: "Milterworks", Case: 7, What: "Suspend the license.", Reason: "Used on 40 networks.",
		Target: "license lic_abc", AnswerURL: "https://shop.example.com/account/reviews/7"}
}

// TestFraudDecisionMailSaysHowToContest: the decision mail names the
// decision, its reason, that a person made it, and where to contest it;
// the reversal says it was reversed and why.
func TestFraudDecisionMailSaysHowToContest(t *testing.T) {
	_, text, html, err := mail.Render("fraud_decision", samples["fraud_decision"])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Suspend the license.", "Used on 40 networks.", "license lic_abc", "by a person", "contest it",
		"https://shop.example.com/account/reviews/7", "supervisory authority"} {
		if !strings.Contains(text, want) || !strings.Contains(html, want) {
			t.Errorf("the decision mail lacks %q:\n%s", want, text)
		}
	}
	rev := samples["fraud_decision"].(fraud.DecisionMail)
	rev.Reversal, rev.Reason = true, "The colleagues were licensed."
	subject, text, _, err := mail.Render("fraud_decision", rev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, "reversed") || !strings.Contains(text, "The colleagues were licensed.") || strings.Contains(text, "contest it") {
		t.Errorf("the reversal mail:\n%s\n%s", subject, text)
	}
}
