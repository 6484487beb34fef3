// How long work reports how far it is: a text (what it is doing) and, when the size is known, how
// many of how many steps are done. The command line draws it as a bar on a terminal (cli/progress.ts).

export interface ProgressAt {
  done: number;
  total: number;
}

export type ProgressFn = (text: string, at?: ProgressAt) => void;
