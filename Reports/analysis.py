"""The CAP lesson of one scenario from an experiment folder, with pandas: which side of a partition
each system keeps serving. An example to start your own analysis from, not a part of the lab.

    python3 Reports/analysis.py [FOLDER] [--scenario NAME] [--out FILE.png]

FOLDER is any folder `conlab run` wrote (default Reports/cap-suite); NAME a scenario with a
partition (default minority-partition). Needs pandas and matplotlib
(`apt-get install -y python3-pandas python3-matplotlib`, or pip).
"""
import argparse
import sys

import pandas as pd


def side_availability(folder, scenario):
    """Mean availability on the majority and the minority side of the scenario's fault windows,
    per system (protocol and variant), over seeds; and the same systems' linearizability."""
    summary = pd.read_csv(f"{folder}/summary.csv", keep_default_na=False)
    faults = pd.read_csv(f"{folder}/faults.csv")
    summary["system"] = summary["protocol"] + summary["variant"].map(lambda v: f"[{v}]" if v else "")
    runs = summary[summary["scenario"] == scenario][["run", "system", "linearizable", "lost_writes"]]
    if runs.empty:
        sys.exit(f"analysis.py: no runs of scenario {scenario!r} in {folder}/summary.csv")
    windows = faults.merge(runs, on="run")
    sides = windows.groupby("system", sort=False)[["availability_majority_side", "availability_minority_side"]].mean()
    verdicts = runs.groupby("system", sort=False).agg(
        linearizable=("linearizable", lambda v: f"{(v.astype(str).str.lower() == 'true').sum()}/{len(v)}"), lost_writes=("lost_writes", "sum"))
    return sides.join(verdicts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="Reports/cap-suite")
    parser.add_argument("--scenario", default="minority-partition")
    parser.add_argument("--out", default="cap-sides.png")
    arguments = parser.parse_args()
    table = side_availability(arguments.folder, arguments.scenario)
    print(table.to_string(float_format=lambda x: f"{x:.2f}"))

    import matplotlib
    matplotlib.use("Agg")
    axes = table[["availability_majority_side", "availability_minority_side"]].rename(
        columns={"availability_majority_side": "majority side", "availability_minority_side": "minority side"}
    ).plot.barh(figsize=(8, 0.45 * len(table) + 1.5), xlim=(0, 1))
    axes.invert_yaxis()
    axes.set_xlabel("share of operations served during the partition (mean over seeds)")
    axes.set_title(f"{arguments.scenario}: which side keeps serving")
    axes.figure.tight_layout()
    axes.figure.savefig(arguments.out)
    print(f"chart → {arguments.out}")


if __name__ == "__main__":
    main()
