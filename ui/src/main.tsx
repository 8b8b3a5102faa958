import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './styles.css';
import { takeTokenFromLocation } from './api.ts';
import { App } from './app.tsx';

takeTokenFromLocation();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
