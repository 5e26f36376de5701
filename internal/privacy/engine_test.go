package privacy_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/storekeep/storekeep/internal/db"
	"github.com/storekeep/storekeep/internal/privacy"
	"github.com/storekeep/storekeep/internal/settings"
	"github.com/storekeep/storekeep/internal/testutil"
)

// helpdeskInventory is the declared inventory plus a test-only support
// table whose rows belong to customers or to staff (author_type says
// whose), with a column holding a help-desk processor's key for the
// author: what a future support desk would declare.
func helpdeskInventory() privacy.Inventory {
	inv := privacy.Declared
	inv.Recipients = append(slices.Clone(inv.Recipients), privacy.Recipient{ID: "helpdesk", Name: "Help desk service",
		Role: "hosts support threads", Location: "EU"})
	msg := func(name string, c privacy.Category, export string) privacy.Column {
		return privacy.Column{Name: name, Personal: true, Category: c, Purposes: []string{"support"},
			Retention: privacy.Retention{Years: 1, From: privacy.FromCollection}, Erasure: privacy.EraseDelete,
			Source: privacy.FromSubject, Export: export, Recipients: []string{"helpdesk"}}
	}
	ref := msg("helpdesk_ref", "user.support.content", "")
	ref.ProcessorRef = "helpdesk"
	inv.Tables = append(slices.Clone(inv.Tables), privacy.Table{Name: "test_thread_messages", Description: "Messages of support threads.",
		Subjects: []privacy.SubjectLink{
			{Subject: privacy.Customer, Link: privacy.Link{Column: "author_id", When: privacy.Is("author_type", "customer")}},
			{Subject: privacy.Staff, Link: privacy.Link{Column: "author_id", When: privacy.Is("author_type", "staff")}},
		},
		Columns: []privacy.Column{{Name: "id"}, {Name: "author_type"}, {Name: "author_id"},
			msg("body", "user.support.content", "body"), ref}})
	return inv
}

// TestSharedTableAndDeclaredProcessorKey: the generic engine finds a
// table's rows per kind of subject by its discriminator (a customer and a
// staff member with the same account number keep apart), and sends a
// processor key declared in a new table to that processor.
func TestSharedTableAndDeclaredProcessorKey(t *testing.T) {
	inv := helpdeskInventory()
	if err := inv.Validate(); err != nil {
		t.Fatal(err)
	}
	testutil.ForEachDB(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := makePerson(t, d, 9, seedPrice(t, d))
		mustExec(t, d, `CREATE TABLE test_thread_messages (id BIGINT PRIMARY KEY, author_type TEXT NOT NULL, author_id BIGINT NOT NULL, body TEXT NOT NULL, helpdesk_ref TEXT NOT NULL)`)
		mustExec(t, d, `INSERT INTO test_thread_messages VALUES (1, 'customer', $1, 'customer words', 'hd_customer'), (2, 'staff', $1, 'staff words', 'hd_staff'),
			(3, 'customer', $2, 'another customer', 'hd_other')`, a.ID, a.ID+1000)
		staffRef := privacy.SubjectRef{Kind: privacy.Staff, ID: a.ID}
		e, err := privacy.Collect(ctx, d, inv, settingsDefaults(), staffRef, t0)
		if err != nil {
			t.Fatal(err)
		}
		if js := exportJSON(t, e); !strings.Contains(js, "staff words") || strings.Contains(js, "customer words") {
			t.Fatalf("the staff export of the shared table: %s", js)
		}
		var asked []string
		rep, err := privacy.Erase(ctx, d, inv, privacy.EraseRequest{Subject: refOf(a)}, privacy.Processors{"helpdesk": fakeProcessor{asked: &asked}}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if st := stepOf(rep, "test_thread_messages"); st.Action != "deleted" || st.Rows != 1 {
			t.Fatalf("test_thread_messages: %+v", st)
		}
		if len(asked) != 1 || asked[0] != "hd_customer" {
			t.Fatalf("the help desk was asked to delete %v", asked)
		}
		var bodies []string
		rows, err := d.QueryContext(ctx, `SELECT body FROM test_thread_messages ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b string
			rows.Scan(&b)
			bodies = append(bodies, b)
		}
		rows.Close()
		if !slices.Equal(bodies, []string{"staff words", "another customer"}) {
			t.Fatalf("left after erasing the customer: %v", bodies)
		}
	})
}

// TestValidateRejectsBrokenErasureDeclarations: each mistake in what
// erasure reads or writes fails Validate, hence the test suite, rather
// than an erasure in production.
func TestValidateRejectsBrokenErasureDeclarations(t *testing.T) {
	base := func() privacy.Inventory { return helpdeskInventory() }
	table := func(inv *privacy.Inventory, name string) *privacy.Table {
		for i := range inv.Tables {
			if inv.Tables[i].Name == name {
				inv.Tables[i].Columns = slices.Clone(inv.Tables[i].Columns)
				inv.Tables[i].Subjects = slices.Clone(inv.Tables[i].Subjects)
				return &inv.Tables[i]
			}
		}
		t.Fatalf("no table %s", name)
		return nil
	}
	column := func(tb *privacy.Table, name string) *privacy.Column {
		for i := range tb.Columns {
			if tb.Columns[i].Name == name {
				return &tb.Columns[i]
			}
		}
		t.Fatalf("no column %s.%s", tb.Name, name)
		return nil
	}
	for _, tc := range []struct {
		name   string
		breakl func(inv *privacy.Inventory)
		want   string
	}{
		{"blank on a kept column", func(inv *privacy.Inventory) {
			column(table(inv, "invoices"), "number").Blank = privacy.BlankNull
		}, "invoices.number: has a Blank, but erasure keeps this column"},
		{"blank on a non-personal column", func(inv *privacy.Inventory) {
			column(table(inv, "orders"), "id").Blank = privacy.BlankZero
		}, "orders.id: has a Blank, but erasure overwrites only personal columns"},
		{"unique blank with SQL in it", func(inv *privacy.Inventory) {
			column(table(inv, "customers"), "email").Blank = privacy.BlankUnique("x'; DROP TABLE customers; --", "")
		}, "customers.email: BlankUnique"},
		{"kept blank on a deleted column", func(inv *privacy.Inventory) {
			column(table(inv, "customers"), "name").Blank = privacy.BlankKeep
		}, "customers.name: BlankKeep is for anonymised columns"},
		{"discriminator not declared", func(inv *privacy.Inventory) {
			table(inv, "audit_log").Link.When = privacy.Is("actor_kind", "staff")
		}, `table audit_log: Link names column "actor_kind", which is not declared`},
		{"discriminator without value", func(inv *privacy.Inventory) {
			table(inv, "audit_log").Link.When = privacy.Is("actor_type", "")
		}, "table audit_log: Link.When needs both a column and a value"},
		{"processor key of a recipient the column does not name", func(inv *privacy.Inventory) {
			column(table(inv, "orders"), "processor_customer").ProcessorRef = "mail"
		}, `orders.processor_customer: ProcessorRef "mail" must be one of the column's Recipients`},
		{"processor key under legal hold", func(inv *privacy.Inventory) {
			column(table(inv, "orders"), "processor_payment").ProcessorRef = "stripe"
		}, "orders.processor_payment: a processor's key for the person is deleted there on erasure"},
		{"partial hold without HeldWith", func(inv *privacy.Inventory) {
			column(table(inv, "invoices"), "currency").IfNotHeld = privacy.EraseDelete
		}, "invoices.currency: IfNotHeld applies only to a legal-hold column of a table with HeldWith"},
		{"HeldWith not a child", func(inv *privacy.Inventory) {
			table(inv, "orders").HeldWith = "customers"
		}, `table orders: HeldWith "customers" must be a declared table linked to orders through Link.Parent`},
		{"shared table without discriminator", func(inv *privacy.Inventory) {
			table(inv, "test_thread_messages").Subjects[1].Link.When = privacy.Match{}
		}, "table test_thread_messages (staff): a table shared by several kinds of subject needs a When on each link"},
		{"shared table claiming rows twice", func(inv *privacy.Inventory) {
			table(inv, "test_thread_messages").Subjects[1].Link.When = privacy.Is("author_type", "customer")
		}, `two kinds of subject claim the rows where author_type = "customer"`},
		{"shared table with a Subject too", func(inv *privacy.Inventory) {
			table(inv, "test_thread_messages").Subject = privacy.Customer
		}, "table test_thread_messages: declares Subjects, so Subject and Link stay empty"},
		{"a credential in the export", func(inv *privacy.Inventory) {
			column(table(inv, "customer_tokens"), "token_hash").Export = "token"
		}, "customer_tokens.token_hash: credentials (tokens, hashes, codes, secrets) never go into an export"},
		{"parent number without a Ref", func(inv *privacy.Inventory) {
			table(inv, "orders").Ref = ""
		}, "table order_lines: Link.ParentExport needs a Ref on orders"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := base()
			inv.Tables = slices.Clone(inv.Tables)
			tc.breakl(&inv)
			err := inv.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v\nwant a problem containing %q", err, tc.want)
			}
		})
	}
}

func settingsDefaults() settings.Vendor { return settings.Defaults() }

func exportJSON(t *testing.T, e privacy.Export) string {
	t.Helper()
	js, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}
