/**
 * cfn-lint over the synthesized template (the default context, one with every option set, and the
 * Athena side's, SAM transform included):
 * no error, and no warning that is neither fixed nor explained below. cfn-lint is a Python tool
 * preinstalled on the project's machine image; where it is absent the test is skipped, unless
 * REQUIRE_CFN_LINT=1 (set by .ci/run) makes it required.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './support/cdk-app.js';

type TemplateJson = { Resources: Record<string, { Type: string; Properties?: Record<string, any>; DependsOn?: string[] }> };

interface Finding {
  Level: 'Error' | 'Warning' | 'Informational';
  Message: string;
  Rule: { Id: string };
  Location: { Path: Array<string | number> };
}

/** Findings we keep, each recognized by its rule and where it points, with the reason. */
const EXPLAINED: Array<{ rule: string; reason: string; applies(finding: Finding, template: TemplateJson): boolean }> = [
  {
    rule: 'W3005',
    reason:
      "CDK's Lambda Function always adds a DependsOn on its execution role next to the GetAtt that already orders them. Harmless, and removing it would mean overriding CDK's own dependency wiring.",
    applies: ({ Location: { Path: where } }, template) => {
      const [section, id, field, index] = where;
      const resource = template.Resources[String(id)];
      if (section !== 'Resources' || field !== 'DependsOn' || resource?.Type !== 'AWS::Lambda::Function') return false;
      const role = resource.Properties?.Role?.['Fn::GetAtt']?.[0];
      return role !== undefined && resource.DependsOn?.[Number(index)] === role;
    },
  },
];

const available = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
const required = process.env.REQUIRE_CFN_LINT === '1';
const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lint(name: string, template: TemplateJson): Finding[] {
  const file = path.join(dir, `${name}.template.json`);
  writeFileSync(file, JSON.stringify(template));
  const result = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8', timeout: 120_000 });
  // Exit status is a bit mask of the levels found; the findings themselves are the JSON on stdout.
  expect(result.stdout, result.stderr).toMatch(/^\s*\[/);
  return JSON.parse(result.stdout) as Finding[];
}

const unexplained = (findings: Finding[], template: TemplateJson) =>
  findings.filter((finding) => !EXPLAINED.some((e) => e.rule === finding.Rule.Id && e.applies(finding, template)));

const describeLint = available || required ? describe : describe.skip;

describeLint(`cfn-lint${available ? '' : ' (skipped: cfn-lint is not installed here; REQUIRE_CFN_LINT=1 makes it required)'}`, () => {
  const linted: Array<{ name: string; template: TemplateJson; findings: Finding[] }> = [];

  beforeAll(() => {
    if (!available) throw new Error('cfn-lint is not on PATH and REQUIRE_CFN_LINT=1 requires it: run on the machine image that has it preinstalled.');
    const everyOption = {
      schedule: 'cron(15 6 ? * MON-FRI *)',
      scheduleTimeZone: 'Europe/Berlin',
      staleAfter: '4d',
      alarmEmail: 'ops@example.com',
      existingSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tavus/api-key-AbC123',
      reserveConcurrency: false,
      eventTtlDays: 365,
    };
    for (const [name, overrides] of Object.entries({ defaults: {}, everyOption, athena: { athena: true, athenaScanCutoffMb: 10 } })) {
      const template = buildApp({ bundle: false, overrides }).template.toJSON() as TemplateJson;
      linted.push({ name, template, findings: lint(name, template) });
    }
  }, 300_000);

  it('finds no error and no unexplained warning in any template', () => {
    for (const { name, template, findings } of linted) {
      const left = unexplained(findings, template);
      expect(left.map((f) => `${f.Level} ${f.Rule.Id} at ${f.Location.Path.join('/')}: ${f.Message}`), name).toEqual([]);
    }
  });

  it('explains each kept finding with a reason, and keeps none that no longer occurs', () => {
    for (const explained of EXPLAINED) {
      expect(explained.reason.length, explained.rule).toBeGreaterThan(0);
      const occurs = linted.some(({ template, findings }) => findings.some((f) => f.Rule.Id === explained.rule && explained.applies(f, template)));
      expect(occurs, `${explained.rule} no longer occurs: remove it from EXPLAINED`).toBe(true);
    }
  });
});
