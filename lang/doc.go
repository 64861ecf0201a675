// Package lang is the front end of dlc: it turns the text of a .dl file into a syntax tree
// and reports syntax errors. It knows nothing of tensors or shapes; the compiler package
// resolves names and checks shapes on the tree it returns.
//
// The lexer is a list of regular-expression rules (see dlTokens and grammar.txt) tried in
// order at each position: comments (# or //) and whitespace are dropped, keywords lex as
// identifiers and are matched by value, and numbers keep their source text (1e-3, .5, 2.).
// The parser is participle's, driven by the structs of ast.go: one struct per grammar rule,
// its fields tagged with the rule's right-hand side, operator precedence expressed by one
// struct per level (Expr, Term, Unary, Postfix, Primary). Every node has Pos and EndPos, the
// position of its first token and the position just past its last, so that later phases can
// point at any construct. grammar.txt is the grammar as participle prints it and a test keeps the two
// equal. The parser commits to a branch after its first token, so a syntax error is reported
// at the token where the input stopped making sense.
//
// Diagnostics of the front end, from the parser and from later phases, are *Error values
// printed as file:line:col: msg with a short lower-case message; Parse returns the first
// syntax error only. Render shows an error with its source line and a caret under the column.
// Parse never panics, whatever its input; FuzzParse checks that.
package lang
