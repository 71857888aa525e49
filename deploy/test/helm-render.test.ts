// The Go template model (./helm-render.ts) against text/template's and Sprig's behaviour, construct by construct.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goFloat, Renderer, TemplateError } from './helm-render.ts';

describe('the Go template model (./helm-render.ts)', () => {
  const one = (text: string, v: Record<string, unknown> = {}) =>
    new Renderer({ chart: { name: 't' }, templates: new Map([['x.yaml', text]]) }).render(v).get('x.yaml');

  it('trims, scopes and short-circuits as text/template does', () => {
    assert.equal(one('a  {{- "b" -}}  c\n'), 'abc\n');
    assert.equal(one('{{- if and .Values.m .Values.m.x }}yes{{ else }}no{{ end }}', { m: null }), 'no');
    assert.throws(() => one('{{ .Values.m.x }}'), TemplateError, 'a field of nil is an error');
    assert.equal(one('{{ .Values.missing }}'), '', 'a missing key prints nothing');
    assert.equal(one('{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } }), 'a=1;b=2;');
  });

  it("follows Sprig's required, default and arithmetic, and Go's float formatting", () => {
    assert.equal(one('{{ required "no" .Values.l | len }}', { l: [] }), '0', 'required lets an empty list through');
    assert.throws(() => one('{{ required "no" (join "," .Values.l) }}', { l: [] }), /no/);
    assert.equal(one('{{ default "d" .Values.s }}', { s: '' }), 'd');
    assert.equal(one('{{ mul (sub .Values.n 5) 1000 | quote }}', { n: 60 }), '"55000"');
    assert.equal(goFloat(1_000_000), '1e+06');
  });

  it("follows Sprig's merge (the first map's non-empty keys win), concat, uniq, compact and kindIs", () => {
    const m = { a: { x: '1', y: '' }, b: 'B' };
    assert.equal(
      one('{{ merge (dict) .Values.a .Values.b | toJson }}', { a: m.a, b: { x: '2', y: '3', z: '4' } }),
      '{"x":"1","y":"3","z":"4"}',
    );
    assert.throws(() => one('{{ merge .Values.l (dict) }}', { l: [] }), TemplateError);
    assert.equal(one('{{ concat .Values.a .Values.b | toJson }}', { a: [1], b: [2] }), '[1,2]');
    assert.throws(() => one('{{ concat .Values.a .Values.missing }}', { a: [] }), TemplateError, 'nil is no list');
    assert.equal(one('{{ list "a" "b" "a" "" | uniq | compact | toJson }}'), '["a","b"]');
    assert.equal(
      one('{{ kindIs "map" .Values.m }} {{ kindIs "map" .Values.s }} {{ kindOf .Values.l }}', { m: {}, s: 'x', l: [] }),
      'true false slice',
    );
    assert.equal(goFloat(123_456), '123456');
    assert.equal(goFloat(0.5), '0.5');
  });
});
