/**
 * The forms a secret commonly takes on its way out of a tool: itself, base64 and base64url (at each
 * of the three byte offsets it can have inside a longer encoded text, keeping only the characters
 * its bytes alone decide), URL-encoded (as a component and as a form), hex (both cases) and
 * JSON-escaped. Forms shorter than `minLength` are left out (they would match everywhere).
 *
 * Scrubbers (the secret broker, the agents' runtime) replace every form before a value is journaled.
 */
export function disguisesOf(secret: string, minLength = 6): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret]);
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = Math.ceil((offset * 8) / 6);
    const end = Math.floor(((offset + bytes.length) * 8) / 6);
    const inner = encoded.slice(start, end);
    forms.add(inner);
    forms.add(inner.replaceAll('+', '-').replaceAll('/', '_'));
  }
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64url'));
  forms.add(encodeURIComponent(secret));
  forms.add(encodeURIComponent(secret).replaceAll('%20', '+'));
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  forms.add(JSON.stringify(secret).slice(1, -1));
  return [...forms].filter((form) => form.length >= minLength);
}
