"""A minimal PEP 517 build backend: a pure-Python wheel of the listed modules, stdlib only.

It exists so that the tests can ``pip install`` this package offline; see
pyproject.toml for what a real plugin would use instead.
"""

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _dist_info() -> tuple[str, dict[str, str]]:
    project = _pyproject()["project"]
    name, version = project["name"], project["version"]
    entry_points = "".join(
        f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items()) + "\n"
        for group, entries in project.get("entry-points", {}).items()
    )
    files = {
        "METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
            f"Summary: {project.get('description', '')}\n"
            f"Requires-Python: {project.get('requires-python', '')}\n"
        ),
        "WHEEL": "Wheel-Version: 1.0\nGenerator: build_backend\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        "entry_points.txt": entry_points,
    }
    return f"{name.replace('-', '_')}-{version}.dist-info", files


def get_requires_for_build_wheel(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    directory, files = _dist_info()
    target = Path(metadata_directory) / directory
    target.mkdir(parents=True, exist_ok=True)
    for filename, text in files.items():
        (target / filename).write_text(text, encoding="utf-8")
    return directory


def _record_line(path: str, content: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(content)}"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    directory, files = _dist_info()
    contents = {
        module: (ROOT / module).read_bytes()
        for module in _pyproject()["tool"]["build_backend"]["modules"]
    }
    contents.update({f"{directory}/{name}": text.encode() for name, text in files.items()})
    record = [_record_line(path, content) for path, content in contents.items()]
    record.append(f"{directory}/RECORD,,")
    contents[f"{directory}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel_name = directory.removesuffix(".dist-info") + "-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w") as wheel:
        for path, content in contents.items():
            wheel.writestr(path, content)
    return wheel_name
