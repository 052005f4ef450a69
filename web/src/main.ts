import { h, render } from 'preact';
import { App } from './app.js';
import { loadConfig } from './config.js';
import { takeTokenFromUrl } from './session.js';
import './styles.css';

takeTokenFromUrl();
const root = document.getElementById('app');
if (root) {
  void loadConfig().then((config) => render(h(App, { config }), root));
}
