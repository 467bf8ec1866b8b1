"""A small typed wrapper around the `terraform` binary.

Why our own: python-terraform (the design card's choice) last shipped in 2019 and breaks on
Terraform 1.x (`destroy()` passes the removed `-force` flag, `output(name)` raises TypeError).
The CLI needs only init, plan, show -json, apply, output -json and destroy, so a thin
subprocess layer with typed results is less code than adapting a wrapper; every failure
becomes a `DatalakeError` that carries terraform's own error line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datalake.errors import DatalakeError, MissingDependencyError

LineSink = Callable[[str], None]

_BOX_CHARS = "│╷╵"


class TerraformError(DatalakeError):
    """A terraform command exited with an error; `output` holds everything it printed."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        command: str = "",
        returncode: int = 1,
        output: str = "",
    ) -> None:
        super().__init__(message, hint)
        self.command = command
        self.returncode = returncode
        self.output = output


@dataclass(frozen=True)
class ResourceChange:
    """One resource in a plan and what terraform will do to it."""

    address: str
    actions: tuple[str, ...]

    @property
    def action(self) -> str:
        """create, update, delete, replace, read or no-op."""
        if set(self.actions) == {"create", "delete"}:
            return "replace"
        return self.actions[0] if self.actions else "no-op"


@dataclass(frozen=True)
class PlanSummary:
    """What a saved plan would change: shown to the user before anything is applied."""

    plan_file: Path
    has_changes: bool
    changes: tuple[ResourceChange, ...] = ()
    output_names: tuple[str, ...] = ()
    destroy: bool = False

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def to_add(self) -> int:
        return self.count("create") + self.count("replace")

    @property
    def to_change(self) -> int:
        return self.count("update")

    @property
    def to_destroy(self) -> int:
        return self.count("delete") + self.count("replace")

    def describe(self) -> str:
        """The one-line summary terraform itself prints ("Plan: 3 to add, ...")."""
        if not self.has_changes:
            return "No changes. The infrastructure matches the configuration."
        return f"Plan: {self.to_add} to add, {self.to_change} to change, {self.to_destroy} to destroy."


def terraform_binary(binary: str | None = None) -> str:
    """Path of the terraform executable, or `MissingDependencyError` saying how to get one."""
    found = shutil.which(binary or "terraform")
    if found is None:
        raise MissingDependencyError(
            "terraform is not installed (not found on PATH)",
            hint="install Terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) and retry",
        )
    return found


def error_line(output: str) -> str | None:
    """Terraform's first `Error: ...` line, without the box drawing of its diagnostics."""
    lines = [line.strip(_BOX_CHARS + " \t") for line in output.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("Error:"):
            summary = line[len("Error:") :].strip()
            # The location line ("on main.tf line 2, in output ...") names what to fix.
            for follow in lines[index + 1 : index + 4]:
                if follow.startswith("on ") and " line " in follow:
                    return f"{summary} ({follow.rstrip(':')})"
            return summary
        if line.startswith("Error ") and ":" in line:  # e.g. "Error handling -chdir option: ..."
            return line
    return None


def _output_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


@dataclass
class Terraform:
    """Runs terraform in one working directory (the root module).

    Every command runs non-interactively (`-input=false`, `TF_IN_AUTOMATION`), without colour,
    and raises `TerraformError` when terraform fails. `on_line` receives the output of the
    long commands (init, plan, apply, destroy) line by line, for a progress display.
    """

    working_dir: Path
    binary: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    on_line: LineSink | None = None
    timeout: float | None = None

    def __post_init__(self) -> None:
        self.working_dir = Path(self.working_dir)
        self.binary = terraform_binary(self.binary)

    # -- running ------------------------------------------------------------------
    def _environ(self) -> dict[str, str]:
        environ = dict(os.environ)
        # A TF_CLI_CONFIG_FILE naming a missing file makes terraform warn on every call.
        config = environ.get("TF_CLI_CONFIG_FILE")
        if config and not Path(config).is_file():
            del environ["TF_CLI_CONFIG_FILE"]
        environ.update({"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"})
        environ.update(self.env)
        return environ

    def run(self, args: Sequence[str], *, ok_codes: Iterable[int] = (0,), stream: bool = False) -> tuple[int, str]:
        """Run `terraform ARGS`; return (exit code, stdout). Raise `TerraformError` on other codes.

        With `stream`, stderr is merged into the output and passed line by line to `on_line`.
        Without it, stdout is kept pure (for `-json`) and stderr only feeds the error message.
        """
        command = [str(self.binary), *args]
        name = args[0] if args else ""
        if not self.working_dir.is_dir():
            raise DatalakeError(
                f"Terraform directory {self.working_dir} does not exist",
                hint="pass the infra/ directory of a datalake checkout",
            )
        try:
            if stream:
                code, stdout, stderr = self._run_streaming(command)
            else:
                completed = subprocess.run(
                    command,
                    cwd=self.working_dir,
                    env=self._environ(),
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    check=False,
                )
                code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(
                f"terraform {name} did not finish within {self.timeout:.0f}s",
                hint="rerun it; if it hangs again, run terraform by hand in the same directory",
                command=name,
            ) from exc
        if code not in set(ok_codes):
            everything = f"{stdout}\n{stderr}"
            reason = error_line(everything) or f"exit code {code}"
            raise TerraformError(
                f"terraform {name} failed: {reason}",
                hint=f"see the full output with `terraform -chdir={self.working_dir} {' '.join(args)}`",
                command=name,
                returncode=code,
                output=everything,
            )
        return code, stdout

    def _run_streaming(self, command: list[str]) -> tuple[int, str, str]:
        collected: list[str] = []
        with subprocess.Popen(
            command,
            cwd=self.working_dir,
            env=self._environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        ) as process:
            assert process.stdout is not None
            for line in process.stdout:
                collected.append(line)
                if self.on_line is not None:
                    self.on_line(line.rstrip("\n"))
            code = process.wait(timeout=self.timeout)
        return code, "".join(collected), ""

    @staticmethod
    def _var_args(var_file: Path | None, variables: Mapping[str, str] | None) -> list[str]:
        args: list[str] = []
        if var_file is not None:
            if not Path(var_file).is_file():
                raise DatalakeError(
                    f"tfvars file {var_file} does not exist",
                    hint="copy infra/terraform.tfvars.example and fill in account_id and aws_region",
                )
            args.append(f"-var-file={Path(var_file).resolve()}")
        for key, value in (variables or {}).items():
            args.append(f"-var={key}={value}")
        return args

    # -- commands -------------------------------------------------------------------
    def version(self) -> str:
        """Terraform's version, e.g. "1.11.4"."""
        _, stdout = self.run(["version", "-json"])
        return str(json.loads(stdout)["terraform_version"])

    def init(self, *, upgrade: bool = False, backend: bool = True, plugin_dir: Path | None = None) -> None:
        """`terraform init`: providers and backend; safe to repeat."""
        args = ["init", "-input=false", "-no-color"]
        if upgrade:
            args.append("-upgrade")
        if not backend:
            args.append("-backend=false")
        if plugin_dir is not None:
            args.append(f"-plugin-dir={plugin_dir}")
        self.run(args, stream=True)

    def plan(
        self,
        *,
        out: Path,
        var_file: Path | None = None,
        variables: Mapping[str, str] | None = None,
        destroy: bool = False,
    ) -> PlanSummary:
        """Save a plan to `out` and summarise it (via `terraform show -json`)."""
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={Path(out).resolve()}"]
        if destroy:
            args.append("-destroy")
        args += self._var_args(var_file, variables)
        code, _ = self.run(args, ok_codes=(0, 2), stream=True)
        if code == 0:
            return PlanSummary(plan_file=Path(out), has_changes=False, destroy=destroy)
        return self.show_plan(Path(out), destroy=destroy)

    def show_plan(self, plan_file: Path, *, destroy: bool = False) -> PlanSummary:
        """Summarise a saved plan file."""
        _, stdout = self.run(["show", "-json", "-no-color", str(Path(plan_file).resolve())])
        document = json.loads(stdout)
        changes = tuple(
            ResourceChange(address=item["address"], actions=tuple(item["change"]["actions"]))
            for item in document.get("resource_changes", [])
            if item.get("change", {}).get("actions") not in (["no-op"], ["read"])
        )
        outputs = tuple(sorted(document.get("output_changes", {})))
        return PlanSummary(
            plan_file=Path(plan_file),
            has_changes=bool(changes) or _outputs_change(document),
            changes=changes,
            output_names=outputs,
            destroy=destroy,
        )

    def apply(self, plan_file: Path) -> None:
        """Apply a saved plan exactly as it was shown."""
        self.run(
            ["apply", "-input=false", "-no-color", "-auto-approve", str(Path(plan_file).resolve())],
            stream=True,
        )

    def output(self) -> dict[str, str]:
        """All root outputs as strings (lists and maps JSON-encoded); null outputs are left out."""
        _, stdout = self.run(["output", "-json", "-no-color"])
        document: dict[str, Any] = json.loads(stdout or "{}")
        return {
            name: _output_value(item.get("value"))
            for name, item in sorted(document.items())
            if item.get("value") is not None
        }

    def destroy(self, *, var_file: Path | None = None, variables: Mapping[str, str] | None = None) -> None:
        """`terraform destroy -auto-approve` (ask the user before calling this)."""
        args = ["destroy", "-input=false", "-no-color", "-auto-approve", *self._var_args(var_file, variables)]
        self.run(args, stream=True)


def _outputs_change(document: Mapping[str, Any]) -> bool:
    return any(change.get("actions") not in (["no-op"],) for change in document.get("output_changes", {}).values())
