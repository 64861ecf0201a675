package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlc-lang/dlc/lang"
)

// lspClient drives serveLSP over a pair of pipes, as an editor drives dlc lsp over its
// standard input and output.
type lspClient struct {
	t      *testing.T
	in     chan []byte // framed messages, written by a goroutine of their own
	out    *bufio.Reader
	nextID int
	notes  []rpcMessage // notifications received, in order
	done   chan error
}

func startLSP(t *testing.T) *lspClient {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &lspClient{t: t, in: make(chan []byte, 64), out: bufio.NewReader(outR), done: make(chan error, 1)}
	// The server writes a notification while the client may be writing its next request, so
	// the client's writes must not wait for the server's reads (an editor's do not either).
	go func() {
		for b := range c.in {
			if _, err := inW.Write(b); err != nil {
				return
			}
		}
		inW.Close()
	}()
	go func() {
		err := serveLSP(inR, outW)
		outW.Close()
		c.done <- err
	}()
	return c
}

func (c *lspClient) send(m *rpcMessage) {
	c.t.Helper()
	var b bytes.Buffer
	if err := writeMessage(&b, m); err != nil {
		c.t.Fatal(err)
	}
	c.in <- b.Bytes()
}

func (c *lspClient) notify(method string, params any) {
	c.t.Helper()
	b, _ := json.Marshal(params)
	c.send(&rpcMessage{Method: method, Params: b})
}

// call sends a request and reads messages until its response, keeping the notifications.
func (c *lspClient) call(method string, params any, result any) *rpcError {
	c.t.Helper()
	c.nextID++
	id := json.RawMessage(fmt.Sprint(c.nextID))
	b, _ := json.Marshal(params)
	c.send(&rpcMessage{ID: &id, Method: method, Params: b})
	for {
		body, err := readMessage(c.out)
		if err != nil {
			c.t.Fatalf("%s: reading the answer: %v", method, err)
		}
		var m struct {
			rpcMessage
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			c.t.Fatalf("%s: an answer that is not JSON: %v: %s", method, err, body)
		}
		if m.ID == nil {
			m.rpcMessage.Result = nil
			c.notes = append(c.notes, m.rpcMessage)
			continue
		}
		if string(*m.ID) != string(id) {
			c.t.Fatalf("%s: an answer to request %s, want %s", method, *m.ID, id)
		}
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("%s: result %s: %v", method, m.Result, err)
			}
		}
		return nil
	}
}

// diagnosticsFor is the last publishDiagnostics received for uri.
func (c *lspClient) diagnosticsFor(uri string) ([]lspDiagnostic, bool) {
	for i := len(c.notes) - 1; i >= 0; i-- {
		var p struct {
			URI         string          `json:"uri"`
			Diagnostics []lspDiagnostic `json:"diagnostics"`
		}
		if c.notes[i].Method == "textDocument/publishDiagnostics" && json.Unmarshal(c.notes[i].Params, &p) == nil && p.URI == uri {
			return p.Diagnostics, true
		}
	}
	return nil, false
}

func docParams(uri string, line, ch int) lspPositionParams {
	return lspPositionParams{TextDocument: lspDocumentID{uri}, Position: lspPosition{line, ch}}
}

// The language server answers an editor's session: initialize, diagnostics with the
// compiler's message and span, hover with a value's shape, go to definition, formatting,
// diagnostics cleared by a fix, and shutdown and exit.
func TestLSP(t *testing.T) {
	dir := t.TempDir()
	c := startLSP(t)
	var init struct {
		Capabilities map[string]any `json:"capabilities"`
	}
	if err := c.call("initialize", map[string]any{"processId": nil, "rootUri": pathURI(dir), "capabilities": map[string]any{}}, &init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	for _, cap := range []string{"hoverProvider", "definitionProvider", "documentFormattingProvider"} {
		if init.Capabilities[cap] != true {
			t.Errorf("initialize: capability %s = %v, want true", cap, init.Capabilities[cap])
		}
	}
	c.notify("initialized", map[string]any{})

	// A shape error: the diagnostic is the compiler's, at its token.
	bad := "model M(x: [B, 784]) -> [B, 10] {\n    w = param([32, 10])\n    h = dense(x, 64)\n    return matmul(h, w)\n}\n"
	badURI := pathURI(filepath.Join(dir, "bad.dl"))
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": badURI, "languageId": "dl", "version": 1, "text": bad}})
	var hover struct {
		Contents struct{ Value string } `json:"contents"`
		Range    lspRange               `json:"range"`
	}
	// Any request after the notification: its answer comes after the diagnostics.
	c.call("textDocument/hover", docParams(badURI, 2, 4), &hover)
	diags, ok := c.diagnosticsFor(badURI)
	if !ok || len(diags) != 1 {
		t.Fatalf("didOpen of a file with a shape error: diagnostics %+v, want one", diags)
	}
	wantRange := lspRange{lspPosition{3, 11}, lspPosition{3, 17}} // "matmul" on line 4, column 12
	if d := diags[0]; d.Range != wantRange || d.Message != "matmul: got [B, 64] and [32, 10]: inner dimensions differ: 64 and 32" || d.Severity != 1 {
		t.Errorf("diagnostic %+v, want range %+v and the compiler's message", d, wantRange)
	}
	// What was lowered before the error can still be hovered: h is [B, 64].
	if !strings.Contains(hover.Contents.Value, "[B, 64]") {
		t.Errorf("hover on h before the error: %q, want [B, 64]", hover.Contents.Value)
	}
	// Fixing the error clears the diagnostic.
	fixed := strings.Replace(bad, "[32, 10]", "[64, 10]", 1)
	c.notify("textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": badURI, "version": 2}, "contentChanges": []any{map[string]any{"text": fixed}}})
	c.call("textDocument/hover", docParams(badURI, 0, 0), nil)
	if diags, ok := c.diagnosticsFor(badURI); !ok || len(diags) != 0 {
		t.Errorf("after the fix: diagnostics %+v, want none", diags)
	}

	// A syntax error: the parser's message, at its token; hover answers nothing.
	synURI := pathURI(filepath.Join(dir, "syntax.dl"))
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": synURI, "languageId": "dl", "version": 1, "text": "model M(x: [B]) {\n    return x +\n}\n"}})
	var none json.RawMessage
	c.call("textDocument/hover", docParams(synURI, 1, 11), &none)
	if diags, _ := c.diagnosticsFor(synURI); len(diags) != 1 || diags[0].Range != (lspRange{lspPosition{2, 0}, lspPosition{2, 1}}) || !strings.HasPrefix(diags[0].Message, `unexpected "}"`) {
		t.Errorf("a syntax error: diagnostics %+v, want unexpected \"}\" at 2:0-2:1", diags)
	}
	if string(none) != "null" {
		t.Errorf("hover in a file that does not parse: %s, want null", none)
	}

	// Hover and definition in the DCGAN example.
	src, err := os.ReadFile("../../examples/gan/dcgan.dl")
	if err != nil {
		t.Fatal(err)
	}
	uri := pathURI(filepath.Join(dir, "dcgan.dl"))
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": uri, "languageId": "dl", "version": 1, "text": string(src)}})
	line, ch := findLSP(t, string(src), "deconv(h, 64")
	if err := c.call("textDocument/hover", docParams(uri, line, ch), &hover); err != nil {
		t.Fatal(err)
	}
	if hover.Contents.Value != "```\n[B, 64, 14, 14]\n```" || hover.Range.Start != (lspPosition{line, ch}) {
		t.Errorf("hover on the first deconv: %q at %+v, want [B, 64, 14, 14] at %d:%d", hover.Contents.Value, hover.Range, line, ch)
	}
	if diags, _ := c.diagnosticsFor(uri); len(diags) != 0 {
		t.Errorf("dcgan.dl: diagnostics %+v, want none", diags)
	}
	var loc lspLocation
	line, ch = findLSP(t, string(src), "gen: G")
	if err := c.call("textDocument/definition", docParams(uri, line, ch+5), &loc); err != nil {
		t.Fatal(err)
	}
	genLine, _ := findLSP(t, string(src), "generator G")
	if want := (lspLocation{uri, lspRange{lspPosition{genLine, 0}, lspPosition{genLine, 9}}}); loc != want {
		t.Errorf("definition of G: %+v, want %+v", loc, want)
	}
	line, ch = findLSP(t, string(src), "reshape(h,")
	if err := c.call("textDocument/definition", docParams(uri, line, ch+8), &loc); err != nil {
		t.Fatal(err)
	}
	if hLine, _ := findLSP(t, string(src), "h = relu(batchnorm(dense"); loc.Range.Start != (lspPosition{hLine, 4}) {
		t.Errorf("definition of h: %+v, want line %d", loc, hLine)
	}

	// Formatting: one edit whose text is dlc fmt's.
	messy := "model M(x:[B,4])->[B,4]{\n  return relu(x)   # r\n}\n"
	messyURI := pathURI(filepath.Join(dir, "messy.dl"))
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": messyURI, "languageId": "dl", "version": 1, "text": messy}})
	var edits []lspTextEdit
	if err := c.call("textDocument/formatting", map[string]any{"textDocument": map[string]any{"uri": messyURI}, "options": map[string]any{"tabSize": 4, "insertSpaces": true}}, &edits); err != nil {
		t.Fatal(err)
	}
	want, _ := lang.Format("messy.dl", []byte(messy))
	if len(edits) != 1 || edits[0].NewText != string(want) || edits[0].Range != (lspRange{End: lspPosition{3, 0}}) {
		t.Errorf("formatting: %+v, want one edit of the whole file to %q", edits, want)
	}

	// A request dlc does not answer is an error, and the session goes on.
	if err := c.call("textDocument/rename", docParams(uri, 0, 0), nil); err == nil || err.Code != rpcMethodNotFound {
		t.Errorf("rename: %v, want method not found", err)
	}
	if err := c.call("shutdown", nil, nil); err != nil {
		t.Fatal(err)
	}
	c.notify("exit", nil)
	close(c.in)
	if err := <-c.done; err != nil {
		t.Errorf("serveLSP after exit: %v", err)
	}
}

// findLSP is the 0-based line and UTF-16 character of the first occurrence of sub.
func findLSP(t *testing.T, src, sub string) (int, int) {
	t.Helper()
	i := strings.Index(src, sub)
	if i < 0 {
		t.Fatalf("%q not found", sub)
	}
	line := strings.Count(src[:i], "\n")
	start := strings.LastIndex(src[:i], "\n") + 1
	return line, len([]rune(src[start:i])) // the example's code lines are ASCII
}

// Malformed framing is an error of the stream, not a panic; a body that is not JSON gets
// a parse-error answer and the session goes on.
func TestLSPFraming(t *testing.T) {
	for _, in := range []string{"Content-Length: x\r\n\r\n{}", "Content-Type: a\r\n\r\n{}", "Content-Length: 10\r\n\r\n{}"} {
		if err := serveLSP(strings.NewReader(in), io.Discard); err == nil {
			t.Errorf("serveLSP(%q) = nil, want an error", in)
		}
	}
	var out strings.Builder
	in := "Content-Length: 3\r\n\r\n{x}"
	if err := serveLSP(strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"code":-32700`) {
		t.Errorf("a body that is not JSON: got %q, want a parse error", out.String())
	}
	if err := serveLSP(strings.NewReader("Content-Length: 33\r\n\r\n"+`{"jsonrpc":"2.0","method":"exit"}`), io.Discard); err == nil {
		t.Errorf("exit before shutdown: nil, want an error")
	}
}

// dlc lsp is the server on the process's standard input and output.
func TestLSPCommand(t *testing.T) {
	var in bytes.Buffer
	for _, m := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`,
		`{"jsonrpc":"2.0","id":2,"method":"shutdown"}`,
		`{"jsonrpc":"2.0","method":"exit"}`,
	} {
		fmt.Fprintf(&in, "Content-Length: %d\r\n\r\n%s", len(m), m)
	}
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(in.Bytes())
	f.Seek(0, io.SeekStart)
	old := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = old; f.Close() }()
	code, out, stderr := run(t, "lsp")
	if code != 0 || stderr != "" || !strings.Contains(out, `"hoverProvider":true`) || !strings.Contains(out, `{"jsonrpc":"2.0","id":2,"result":null}`) {
		t.Errorf("dlc lsp: exit %d, stderr %q, stdout %q", code, stderr, out)
	}
	if code, _, stderr := run(t, "lsp", "x.dl"); code != 2 || !strings.Contains(stderr, "want no arguments") {
		t.Errorf("dlc lsp x.dl: exit %d, %q; want a usage error", code, stderr)
	}
}
