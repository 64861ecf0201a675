package lang

import "github.com/alecthomas/participle/v2/lexer"

// Pos is a position in a source file: file name, byte offset, line and column (1-based).
// It is participle's position type under lang's name, because participle fills the Pos and
// EndPos fields of every node for free when they have that type; the phases after lang use
// lang.Pos and never import the parser's packages.
type Pos = lexer.Position

// The AST is the grammar: one struct per rule, parsed by participle. Every node carries Pos
// and EndPos (filled in by participle) so that any later phase can point at its span.
// grammar.txt beside this file is the same grammar in EBNF and is checked against the parser.

// File = { Decl } .
type File struct {
	Pos    Pos
	EndPos Pos
	Name   string  `parser:""` // the file name given to Parse
	Decls  []*Decl `parser:"@@*"`
}

// Decl = Import | Block | Train | Family .
type Decl struct {
	Pos    Pos
	EndPos Pos
	Import *Import `parser:"  @@"`
	Block  *Block  `parser:"| @@"`
	Train  *Train  `parser:"| @@"`
	Family *Family `parser:"| @@"`
}

// Import = "import" String .
type Import struct {
	Pos    Pos
	EndPos Pos
	Path   string `parser:"'import' @String"`
}

// Block = BlockKind Ident "(" [ Param { "," Param } ] ")" [ "->" Result ] "{" { Stmt } "}" .
// BlockKind = "encoder" | "decoder" | "generator" | "discriminator" | "layer" | "model" .
type Block struct {
	Pos    Pos
	EndPos Pos
	Kind   string   `parser:"@('encoder' | 'decoder' | 'generator' | 'discriminator' | 'layer' | 'model')"`
	Name   string   `parser:"@Ident"`
	Params []*Param `parser:"'(' ( @@ ( (?! ',' ')') ',' @@ )* ','? )? ')'"`
	Result *Result  `parser:"( '->' @@ )?"`
	Body   []*Stmt  `parser:"'{' @@* '}'"`
}

// Result = TypeExpr | "(" TypeExpr { "," TypeExpr } ")" .
type Result struct {
	Pos    Pos
	EndPos Pos
	Tuple  []*TypeExpr `parser:"  '(' @@ ( ',' @@ )* ')'"`
	Single *TypeExpr   `parser:"| @@"`
}

// Types returns the result types in order.
func (r *Result) Types() []*TypeExpr {
	if r == nil {
		return nil
	}
	if r.Single != nil {
		return []*TypeExpr{r.Single}
	}
	return r.Tuple
}

// Param = Ident ":" TypeExpr [ "=" Expr ] .
type Param struct {
	Pos     Pos
	EndPos  Pos
	Name    string    `parser:"@Ident ':'"`
	Type    *TypeExpr `parser:"@@"`
	Default *Expr     `parser:"( '=' @@ )?"`
}

// TypeExpr = Shape | Ident [ "(" [ Arg { "," Arg } ] ")" ] .
// A named type is a scalar kind (int, float, string, bool, shape), "graph" or "pairs", or
// the name of a block (the parameters of a family block). Arguments refine a named type:
// graph(edge: [E, 4], undirected: true).
type TypeExpr struct {
	Pos    Pos
	EndPos Pos
	Shape  *ShapeLit `parser:"  @@"`
	Named  string    `parser:"| @Ident"`
	Args   []*Arg    `parser:"  ( '(' ( @@ ( ',' @@ )* )? ')' )?"`
}

// Shape = "[" [ Expr { "," Expr } ] "]" .
type ShapeLit struct {
	Pos    Pos
	EndPos Pos
	Dims   []*Expr `parser:"'[' ( @@ ( ',' @@ )* )? ']'"`
}

// Stmt = "return" Expr { "," Expr } | Unpack | Ident "=" Expr .
type Stmt struct {
	Pos    Pos
	EndPos Pos
	Return []*Expr  `parser:"  'return' @@ ( ',' @@ )*"`
	Unpack *Unpack  `parser:"| (?= Ident ',') @@"`
	Assign *Setting `parser:"| @@"`
}

// Unpack = Ident "," Ident { "," Ident } "=" Expr .
// It names the results of a call of a block that returns several values: mu, logvar = E(x).
type Unpack struct {
	Pos    Pos
	EndPos Pos
	Names  []string `parser:"@Ident ( ',' @Ident )+ '='"`
	Value  *Expr    `parser:"@@"`
}

// Setting = Ident "=" Expr .
// The name may be any identifier but "return", so that a return where only settings may
// stand is reported as such (and but "phase" opening a phase of a train block).
type Setting struct {
	Pos    Pos
	EndPos Pos
	Name   string `parser:"(?! 'return' | 'phase' Ident '{') @Ident '='"`
	Value  *Expr  `parser:"@@"`
}

// Family = Ident Ident "(" [ Param { "," Param } ] ")" "{" { Setting } "}" .
//
// A family block pairs blocks (an encoder with a decoder, a generator with a discriminator)
// and declares how they train together. Its kind (autoencoder, gan, …) is any identifier
// here; the compiler's table of families says which exist.
type Family struct {
	Pos      Pos
	EndPos   Pos
	Kind     string     `parser:"(?= Ident Ident '(') (?! 'train' | 'import') @Ident"`
	Name     string     `parser:"@Ident"`
	Params   []*Param   `parser:"'(' ( @@ ( (?! ',' ')') ',' @@ )* ','? )? ')'"`
	Settings []*Setting `parser:"'{' @@* '}'"`
}

// Train = "train" Ident [ "(" [ Param { "," Param } ] ")" ] "{" { Setting } { Phase } "}" .
//
// The target names a family block or a model; a train block that writes its own phases
// names the run instead, and its parameters are the tensors the data feeds its phases.
type Train struct {
	Pos      Pos
	EndPos   Pos
	Target   string     `parser:"'train' @Ident"`
	Params   []*Param   `parser:"( '(' ( @@ ( (?! ',' ')') ',' @@ )* ','? )? ')' )?"`
	Settings []*Setting `parser:"'{' @@*"`
	Phases   []*Phase   `parser:"@@* '}'"`
}

// Phase = "phase" Ident "{" { Stmt } "}" .
//
// One optimiser step of a train block: statements computing its loss, and the settings
// loss, updates, optimizer, repeat and report.
type Phase struct {
	Pos    Pos
	EndPos Pos
	Name   string  `parser:"'phase' @Ident"`
	Body   []*Stmt `parser:"'{' @@* '}'"`
}

// Expr = Term { ("+" | "-") Term } .
type Expr struct {
	Pos    Pos
	EndPos Pos
	Left   *Term     `parser:"@@"`
	Rest   []*OpTerm `parser:"@@*"`
}

// OpTerm is one "+ Term" or "- Term" step of an Expr.
type OpTerm struct {
	Pos    Pos
	EndPos Pos
	Op     string `parser:"@('+' | '-')"`
	Term   *Term  `parser:"@@"`
}

// Term = Unary { ("*" | "/") Unary } .
type Term struct {
	Pos    Pos
	EndPos Pos
	Left   *Unary     `parser:"@@"`
	Rest   []*OpUnary `parser:"@@*"`
}

// OpUnary is one "* Unary" or "/ Unary" step of a Term.
type OpUnary struct {
	Pos    Pos
	EndPos Pos
	Op     string `parser:"@('*' | '/')"`
	Unary  *Unary `parser:"@@"`
}

// Unary = [ "-" ] Postfix .
type Unary struct {
	Pos     Pos
	EndPos  Pos
	Neg     bool     `parser:"@'-'?"`
	Postfix *Postfix `parser:"@@"`
}

// Postfix = Primary { Index | Field } .
type Postfix struct {
	Pos     Pos
	EndPos  Pos
	Primary *Primary  `parser:"@@"`
	Suffix  []*Suffix `parser:"@@*"`
}

// Suffix = "[" Expr "]" | "." Ident .
type Suffix struct {
	Pos    Pos
	EndPos Pos
	Index  *Expr  `parser:"  '[' @@ ']'"`
	Field  string `parser:"| '.' @Ident"`
}

// Primary = Number | String | Call | Ident | List | "(" Expr ")" .
type Primary struct {
	Pos    Pos
	EndPos Pos
	Number *string `parser:"  @(Float | Int)"`
	String *string `parser:"| @String"`
	Call   *Call   `parser:"| (?= Ident '(') @@"`
	Ident  string  `parser:"| @Ident"`
	List   *List   `parser:"| @@"`
	Paren  *Expr   `parser:"| '(' @@ ')'"`
}

// Call = Ident "(" [ Arg { "," Arg } ] ")" .
type Call struct {
	Pos    Pos
	EndPos Pos
	Func   string `parser:"@Ident '('"`
	Args   []*Arg `parser:"( @@ ( (?! ',' ')') ',' @@ )* ','? )? ')'"`
}

// Arg = [ Ident ":" ] Expr .
type Arg struct {
	Pos    Pos
	EndPos Pos
	Name   string `parser:"( (?= Ident ':') @Ident ':' )?"`
	Value  *Expr  `parser:"@@"`
}

// List = "[" [ Expr { "," Expr } ] "]" .
type List struct {
	Pos    Pos
	EndPos Pos
	Elems  []*Expr `parser:"'[' ( @@ ( ',' @@ )* )? ']'"`
}
