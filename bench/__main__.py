"""python -m bench [NAME ...]: run every bench/*_bench.py module's main() in
turn, or only those named (`python -m bench model` runs model_bench)."""
import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(bench.__path__)
                   if m.name.endswith("_bench"))
    wanted = [n if n.endswith("_bench") else f"{n}_bench" for n in argv]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"python -m bench: no benchmark {', '.join(unknown)} "
              f"(there are: {', '.join(n.removesuffix('_bench') for n in names)})",
              file=sys.stderr)
        return 2
    for name in wanted or names:
        print(f"== {name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
