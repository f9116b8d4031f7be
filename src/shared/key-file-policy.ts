/**
 * When a key file may be used, as OpenSSH decides for private keys: a regular file, owned by the
 * reading user (or root), that no group or other user can read or write; a symlink to it only when
 * the link, too, belongs to the user or root (a link someone else placed can point the worker at a
 * file of their choosing). The worker checks before every read; the CLI checks the same on its own
 * machine. Pure: the caller gathers the facts.
 */

/** A key file is 64 hex digits and a newline; anything this large is not a key. */
export const MAX_KEY_FILE_BYTES = 4096;

export interface KeyFileFacts {
  /** `lstat` of the path: what the path itself is. */
  link: { isSymbolicLink: boolean; uid: number };
  /** `stat` of the path: the file it leads to. */
  target: { isFile: boolean; mode: number; uid: number; size: number };
}

/** Pure: why the file must not be used, with the fix, or undefined when it may be read. */
export function keyFileProblem(facts: KeyFileFacts, readerUid: number): string | undefined {
  const trusted = (uid: number) => uid === readerUid || uid === 0;
  if (facts.link.isSymbolicLink && !trusted(facts.link.uid)) {
    return `is a symlink owned by uid ${facts.link.uid}, not by this user (uid ${readerUid}) or root; point the reference at the file itself`;
  }
  if (!facts.target.isFile) return 'is not a regular file; store the key in a file of its own';
  if (!trusted(facts.target.uid)) {
    return `is owned by uid ${facts.target.uid}, not by this user (uid ${readerUid}) or root; chown it to the user the worker runs as`;
  }
  const open = facts.target.mode & 0o077;
  if (open) {
    return `is accessible to ${open & 0o070 ? 'its group' : ''}${open & 0o070 && open & 0o007 ? ' and ' : ''}${open & 0o007 ? 'other users' : ''} (mode ${(facts.target.mode & 0o777).toString(8).padStart(4, '0')}); chmod 600 it (Kubernetes secret volumes: defaultMode: 0400)`;
  }
  if (facts.target.size > MAX_KEY_FILE_BYTES) {
    return `is ${facts.target.size} bytes, more than a key file holds (${MAX_KEY_FILE_BYTES}); reference the file that holds only the key`;
  }
  return undefined;
}
