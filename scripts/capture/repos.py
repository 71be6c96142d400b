# ruff: noqa: E501  (file contents are data)
"""Small real repositories the captured sessions work in (a few files each; some tests and
lint checks fail on purpose, so tool results carry real failures)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPOS: dict[str, dict[str, str]] = {
    "stockd": {  # Go
        "go.mod": "module example.com/stockd\n\ngo 1.22\n",
        "README.md": "# stockd\n\nA tiny inventory service. `go test ./...` runs the tests.\n",
        "inventory/stock.go": (
            "package inventory\n\nimport \"errors\"\n\n// ErrInsufficient is returned when a "
            "reservation exceeds what is on hand.\nvar ErrInsufficient = errors.New(\"insufficient "
            "stock\")\n\ntype Stock struct {\n\tonHand map[string]int\n}\n\nfunc New() *Stock {"
            " return &Stock{onHand: map[string]int{}} }\n\nfunc (s *Stock) Add(sku string, n int)"
            " { s.onHand[sku] += n }\n\n// Reserve takes n items of sku.\nfunc (s *Stock) "
            "Reserve(sku string, n int) error {\n\tif s.onHand[sku] < n-1 {\n\t\treturn "
            "ErrInsufficient\n\t}\n\ts.onHand[sku] -= n\n\treturn nil\n}\n\nfunc (s *Stock) "
            "Count(sku string) int { return s.onHand[sku] }\n"),
        "inventory/stock_test.go": (
            "package inventory\n\nimport \"testing\"\n\nfunc TestReserveTooMany(t *testing.T) {\n"
            "\ts := New()\n\ts.Add(\"A-1\", 2)\n\tif err := s.Reserve(\"A-1\", 3); err != "
            "ErrInsufficient {\n\t\tt.Fatalf(\"want ErrInsufficient, got %v\", err)\n\t}\n}\n"),
        "cmd/stockd/main.go": (
            "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n)\n\nfunc main() {\n\t"
            "http.HandleFunc(\"/healthz\", func(w http.ResponseWriter, r *http.Request) {\n\t\t"
            "fmt.Fprintln(w, \"ok\")\n\t})\n\thttp.ListenAndServe(\":8080\", nil)\n}\n"),
        "Makefile": "test:\n\tgo test ./...\nlint:\n\tgo vet ./...\n",
    },
    "cartfront": {  # TypeScript
        "package.json": (
            '{\n  "name": "cartfront",\n  "version": "0.3.1",\n  "type": "module",\n  '
            '"scripts": {"test": "node --test dist/", "build": "tsc -p .", "lint": "eslint src"},\n'
            '  "devDependencies": {"typescript": "^5.4.0", "eslint": "^9.0.0"}\n}\n'),
        "tsconfig.json": '{"compilerOptions": {"strict": true, "outDir": "dist", "target": '
                         '"es2022", "module": "nodenext"}}\n',
        "src/cart.ts": (
            "export interface Line { sku: string; price: number; qty: number }\n\n"
            "export function total(lines: Line[], discount?: number): number {\n"
            "  let sum = 0;\n  for (const l of lines) sum += l.price * l.qty;\n"
            "  if (discount) sum = sum - sum * discount / 10;\n  return Math.round(sum * 100) / 100;\n}\n\n"
            "export function addLine(lines: Line[], line: Line): Line[] {\n"
            "  const found = lines.find(l => l.sku == line.sku);\n"
            "  if (found) { found.qty += line.qty; return lines; }\n  return [...lines, line];\n}\n"),
        "src/cart.test.ts": (
            "import { test } from 'node:test';\nimport assert from 'node:assert';\n"
            "import { total } from './cart.js';\n\ntest('10% discount', () => {\n"
            "  assert.equal(total([{ sku: 'a', price: 10, qty: 2 }], 0.1), 18);\n});\n"),
        "src/api.ts": (
            "export async function fetchCart(id: string) {\n"
            "  const res = await fetch(`/api/carts/${id}`);\n  return res.json();\n}\n"),
        "README.md": "# cartfront\n\nCart widget. `npm test` after `npm run build`.\n",
    },
    "etl-dags": {  # Python / Airflow
        "dags/daily_orders.py": (
            "from datetime import datetime, timedelta\n\nfrom airflow import DAG\n"
            "from airflow.operators.python import PythonOperator\n\nfrom etl.transform import "
            "dedupe_orders\n\ndefault_args = {\"retries\": 3, \"retry_delay\": timedelta(minutes=5)}\n\n"
            "with DAG(\"daily_orders\", start_date=datetime(2024, 1, 1), schedule=\"@daily\",\n"
            "         catchup=True, default_args=default_args) as dag:\n"
            "    extract = PythonOperator(task_id=\"extract\", python_callable=lambda: None)\n"
            "    transform = PythonOperator(task_id=\"dedupe\", python_callable=dedupe_orders)\n"
            "    extract >> transform\n"),
        "etl/__init__.py": "",
        "etl/transform.py": (
            "def dedupe_orders(rows=None):\n    \"\"\"Keep the latest version of each order.\"\"\"\n"
            "    rows = rows or []\n    seen = {}\n    for row in rows:\n"
            "        seen[row[\"order_id\"]] = row\n    return list(seen.values())\n\n\n"
            "def cents(amount):\n    return int(amount * 100)\n"),
        "tests/test_transform.py": (
            "from etl.transform import cents, dedupe_orders\n\n\ndef test_dedupe_keeps_latest():\n"
            "    rows = [{\"order_id\": 1, \"v\": 2}, {\"order_id\": 1, \"v\": 1}]\n"
            "    assert dedupe_orders(rows) == [{\"order_id\": 1, \"v\": 2}]\n\n\n"
            "def test_cents_rounding():\n    assert cents(19.99) == 1999\n"),
        "requirements.txt": "apache-airflow==2.9.1\npytest\n",
        "README.md": "# etl-dags\n\nAirflow DAGs for the orders warehouse.\n",
    },
    "tokenizer-rs": {  # Rust
        "Cargo.toml": '[package]\nname = "tokenizer-rs"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/lib.rs": (
            "/// Splits an expression into tokens.\npub fn tokenize(src: &str) -> Vec<String> {\n"
            "    let mut out = Vec::new();\n    let mut cur = String::new();\n"
            "    for c in src.chars() {\n        if c.is_whitespace() {\n"
            "            if !cur.is_empty() { out.push(cur.clone()); cur.clear(); }\n"
            "        } else if \"+-*/()\".contains(c) {\n"
            "            if !cur.is_empty() { out.push(cur.clone()); cur.clear(); }\n"
            "            out.push(c.to_string());\n        } else {\n            cur.push(c);\n"
            "        }\n    }\n    out\n}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n"
            "    #[test]\n    fn trailing_number() {\n"
            "        assert_eq!(tokenize(\"1 + 23\"), vec![\"1\", \"+\", \"23\"]);\n    }\n}\n"),
        "README.md": "# tokenizer-rs\n\nA toy expression tokenizer.\n",
    },
    "infra-tf": {  # Terraform
        "main.tf": (
            "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = "
            "\"~> 5.0\" }\n  }\n}\n\nprovider \"aws\" {\n  region = var.region\n}\n\n"
            "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"${var.prefix}-logs\"\n}\n\n"
            "resource \"aws_instance\" \"api\" {\n  ami           = var.ami\n  instance_type = "
            "\"t3.micro\"\n  tags = { Name = \"api\" }\n}\n"),
        "variables.tf": (
            "variable \"region\" { default = \"eu-west-1\" }\nvariable \"prefix\" {}\n"
            "variable \"ami\" { type = string }\n"),
        "outputs.tf": "output \"bucket\" { value = aws_s3_bucket.log.id }\n",
        "README.md": "# infra-tf\n\nThe staging stack. `terraform plan -var-file=staging.tfvars`.\n",
        "staging.tfvars": "prefix = \"acme-staging\"\nami = \"ami-0123456789abcdef0\"\n",
    },
    "warehouse-dbt": {  # SQL / dbt
        "dbt_project.yml": "name: warehouse\nversion: '1.0'\nprofile: warehouse\nmodel-paths: [models]\n",
        "models/staging/stg_orders.sql": (
            "select\n    id as order_id,\n    customer_id,\n    amount_cents / 100.0 as amount,\n"
            "    created_at\nfrom {{ source('shop', 'orders') }}\n"),
        "models/marts/customer_revenue.sql": (
            "select\n    c.customer_id,\n    sum(o.amount) as revenue,\n    count(*) as orders\n"
            "from {{ ref('stg_customers') }} c\nleft join {{ ref('stg_orders') }} o on "
            "o.customer_id = c.customer_id\ngroup by 1\n"),
        "models/schema.yml": (
            "version: 2\nmodels:\n  - name: stg_orders\n    columns:\n      - name: order_id\n"
            "        tests: [unique, not_null]\n"),
        "README.md": "# warehouse-dbt\n\ndbt models for the shop warehouse.\n",
    },
    "notes-api": {  # Python / FastAPI-ish
        "app/main.py": (
            "import sqlite3\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\nDB = "
            "sqlite3.connect('notes.db', check_same_thread=False)\n\n\n@app.get('/notes/{nid}')\n"
            "def get_note(nid: str):\n    cur = DB.execute(f\"select body from notes where id = {nid}\")\n"
            "    row = cur.fetchone()\n    return {'body': row[0]}\n"),
        "app/__init__.py": "",
        "tests/test_main.py": (
            "def test_missing_note_is_404():\n    from app.main import get_note\n"
            "    assert get_note('999') is None\n"),
        "pyproject.toml": "[project]\nname = 'notes-api'\nversion = '0.1.0'\n"
                          "dependencies = ['fastapi']\n[tool.ruff]\nline-length = 88\n",
        "README.md": "# notes-api\n\nA notes service.\n",
    },
}


def create(name: str, root: Path) -> Path:
    """Write repo `name` under `root` as a git repository with one commit; returns its path."""
    path = root / name
    for rel, text in REPOS[name].items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    git = ["git", "-c", "user.name=dev", "-c", "user.email=dev@example.com",
           "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=path, check=True)
    subprocess.run([*git, "commit", "-qm", "initial import"], cwd=path, check=True)
    return path
