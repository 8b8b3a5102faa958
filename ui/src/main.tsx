import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { takeTokenFromLocation } from './api.ts';
import { App } from './app.tsx';
import { applyTheme, storedTheme } from './theme.ts';

takeTokenFromLocation();
applyTheme(storedTheme());
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
