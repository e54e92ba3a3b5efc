#!/usr/bin/env python3
"""Man pages and bash completion generated from a tool's own --help.

The option text of probe-agent and probe-report lives in one place each
(agent/core/options.cc, report/report_options.cc); the build runs the freshly
built tools and turns their --help into roff and into a completion script,
so neither can drift from what the tools say.

  cli_docs.py man BINARY NAME VERSION OUT
  cli_docs.py completion OUT AGENT_BINARY REPORT_BINARY
"""
import re
import subprocess
import sys


def help_text(binary):
    return subprocess.run([binary, "--help"], check=True, capture_output=True,
                          text=True).stdout


def paragraphs(text):
    block = []
    for line in text.splitlines():
        if line.strip():
            block.append(line.rstrip())
        elif block:
            yield block
            block = []
    if block:
        yield block


def roff(s):
    s = s.replace("\\", "\\e")
    s = re.sub(r"(?<![\w])-", r"\\-", s)
    return "\\&" + s if s.startswith((".", "'")) else s


def roff_option(s):
    """An option's words: every hyphen a minus sign (\\-), as man pages want."""
    return roff(s).replace("\\-", "-").replace("-", "\\-")


def option_spec(line):
    """'  -p, --pid N   text' -> ('-p, --pid N', 'text'); None if no option."""
    m = re.match(r"^ {2}(-\S.*?)(?: {2,}(\S.*))?$", line)
    return (m.group(1), m.group(2) or "") if m else None


def man(binary, name, version, out):
    text = help_text(binary)
    blocks = list(paragraphs(text))
    usage, summary = blocks[0], None
    lines = [f'.TH {name.upper()} 1 "" "probe {version}" "User Commands"', ".SH NAME"]
    body = []
    segments = []  # runs of unindented prose and of indented option lines
    for block in blocks[1:]:
        for line in block:
            kind = "option" if line.startswith(" ") else "prose"
            if segments and segments[-1][0] == kind:
                segments[-1][1].append(line)
            else:
                segments.append((kind, [line]))
        segments.append(("break", []))
    for kind, lines_ in segments:
        if kind == "prose" and lines_[-1].endswith(":"):
            # A section heading, perhaps with a note: "Sampling (note...):".
            joined = " ".join(lines_)[:-1]
            title, _, rest = joined.partition(" (")
            body.append(f".SH {roff(title.upper())}")
            if rest:
                body.append(".PP")
                body.append(roff("(" + rest))
        elif kind == "prose":
            if summary is None:
                summary = " ".join(lines_)
            body.append(".PP")
            body.extend(roff(line) for line in lines_)
        for line in lines_ if kind == "option" else []:
            spec = option_spec(line)
            if spec:
                body.append(".TP")
                body.append("\\fB" + roff_option(spec[0]) + "\\fR")
                if spec[1]:
                    body.append(roff(spec[1]))
            else:
                stripped = line.strip()
                if len(line) - len(line.lstrip()) > 23:  # a table row inside an entry
                    body.append(".br")
                body.append(roff(stripped))
    first = re.split(r"[.:] ", summary)[0].rstrip(".:") if summary else name
    lines.append(f"{name} \\- {roff(first[0].lower() + first[1:])}")
    lines.append(".SH SYNOPSIS")
    for line in usage:
        line = re.sub(r"^usage:\s*", "", line).strip()
        lines.append(f"{roff(line)}\n.br")
    lines.append(".SH DESCRIPTION")
    lines.extend(body)
    lines.append(".SH SEE ALSO")
    other = "probe-report" if name == "probe-agent" else "probe-agent"
    lines.append(f"\\fB{other}\\fR(1); /usr/share/doc/probe/README.md, FORMAT.md")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


def options_and_values(text):
    """Every option name, and for options whose entry says 'known: a, b'
    the values they take."""
    opts, values = [], {}
    entry = None
    for line in text.splitlines():
        spec = option_spec(line)
        if spec:
            names = re.findall(r"(?:^|[\s,])(--?[A-Za-z][\w-]*)", spec[0])
            opts.extend(n for n in names if n not in opts)
            entry = [names, spec[1]]
        elif entry and line.startswith("   "):
            entry[1] += " " + line.strip()
        else:
            entry = None
        if entry:
            m = re.search(r"known:\s*([a-z, \n]+)", entry[1])
            if m:
                words = [w for w in re.split(r"[,\s]+", m.group(1)) if w]
                for n in entry[0]:
                    values[n] = words
    return opts, values


def completion(out, agent, report):
    cases = []
    for name, binary in (("probe-agent", agent), ("probe-report", report)):
        opts, values = options_and_values(help_text(binary))
        value_cases = "".join(
            f'        {n}) vals="{" ".join(v)}" ;;\n' for n, v in sorted(values.items()))
        cases.append(f"""    {name})
      opts="{' '.join(opts)}"
      case "$prev" in
{value_cases}      esac ;;
""")
    script = """# bash completion for probe-agent and probe-report (generated from their
# --help by scripts/cli_docs.py): options, and the kinds of --events/--kind.
_probe_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
  local opts="" vals="" i
  # "--events=sys": bash splits at '=', so the option is two words back.
  if [[ $prev == "=" && COMP_CWORD -ge 2 ]]; then prev="${COMP_WORDS[COMP_CWORD-2]}"; fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ ${COMP_WORDS[i]} == -- ]] && return 0  # the command's own words: default completion
  done
  case "${COMP_WORDS[0]##*/}" in
%s  esac
  if [[ -n $vals ]]; then
    local head="" last="$cur"
    if [[ $cur == *,* ]]; then head="${cur%%,*},"; last="${cur##*,}"; fi
    COMPREPLY=($(compgen -P "$head" -W "$vals" -- "$last"))
    compopt -o nospace 2>/dev/null
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  fi
  return 0
}
complete -o default -F _probe_complete probe-agent probe-report
""" % "".join(cases)
    with open(out, "w") as f:
        f.write(script)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "man":
        man(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "completion":
        completion(*sys.argv[2:])
    else:
        sys.exit(__doc__)
