/** `prj completions bash|zsh|fish`: scripts that ask `prj __complete` for proposals. */
import type { PrjContext } from "../cli.ts";

const SCRIPTS: Record<string, string> = {
  bash: `# prj bash completion; add to ~/.bashrc: source <(prj completions bash)
_prj_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(prj __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _prj_complete prj
`,
  zsh: `#compdef prj
# prj zsh completion; add to ~/.zshrc: source <(prj completions zsh)
_prj() {
  local -a proposals
  proposals=("\${(@f)$(prj __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -- $proposals
}
compdef _prj prj
`,
  fish: `# prj fish completion; save as ~/.config/fish/completions/prj.fish
complete -c prj -f -a '(prj __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`,
};

/** Prints the completion script for a shell. */
export function completions(this: PrjContext, _flags: Record<string, never>, shell: string): void {
  this.io.raw(SCRIPTS[shell]!);
}
