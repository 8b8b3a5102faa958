/** Light, dark, or the system's choice (`prefers-color-scheme`); the choice is kept in localStorage. */
export type Theme = 'system' | 'light' | 'dark';

const THEME_KEY = 'baton.theme';

export function storedTheme(): Theme {
  const value = localStorage.getItem(THEME_KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

/** Applies `theme` to the document (styles.css reads `data-theme`) and keeps it. */
export function applyTheme(theme: Theme): void {
  if (theme === 'system') {
    delete document.documentElement.dataset.theme;
    localStorage.removeItem(THEME_KEY);
  } else {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem(THEME_KEY, theme);
  }
}

/** The theme the toggle moves to next: system → light → dark → system. */
export function nextTheme(theme: Theme): Theme {
  return theme === 'system' ? 'light' : theme === 'light' ? 'dark' : 'system';
}
