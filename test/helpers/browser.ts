// A real browser for the login tests: Debian's chromium (/usr/bin/chromium), driven by
// playwright-core, never a downloaded one (ci-recipes.md). It plays the user at oidc-provider's
// dev login and consent pages, and at its device-flow pages.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SENTRAIL_TEST_CHROMIUM ?? '/usr/bin/chromium';
// ci-recipes.md's flags, and --password-store=basic: with a D-Bus session, chromium would otherwise
// keep a "Chromium Safe Storage" secret in the Secret Service for every new profile, meddling with
// the very keyring the login tests check (and once seen to take gnome-keyring down mid-run).
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--password-store=basic'];

export interface TestBrowser {
  browser: Browser;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sentrail-chromium-'));
  // launchPersistentContext is the only way to pass --user-data-dir with playwright.
  const context = await chromium.launchPersistentContext(dataDir, { executablePath: CHROMIUM, args: ARGS, headless: true });
  return {
    browser: context.browser()!,
    newPage: () => context.newPage(),
    async close() {
      await context.close().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Signs in as `login` on oidc-provider's dev login page and consents; resolves at the page it ends on. */
export async function signInAndConsent(page: Page, url: string, login = 'ada'): Promise<Page> {
  await page.goto(url);
  await passInteraction(page, login);
  return page;
}

/** Handles whatever of login and consent pages the provider shows, until it leaves them. */
export async function passInteraction(page: Page, login: string): Promise<void> {
  for (let step = 0; step < 4; step++) {
    await page.waitForLoadState('domcontentloaded');
    if (await page.locator('input[name="login"]').count()) {
      await page.fill('input[name="login"]', login);
      await page.fill('input[name="password"]', 'any-password');
      await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }).catch(() => {}), page.click('button[type="submit"]')]);
    } else if (await page.locator('input[name="prompt"][value="consent"]').count()) {
      await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }).catch(() => {}), page.click('button[type="submit"]')]);
    } else {
      return;
    }
  }
}

/**
 * The device flow as a user does it: open the verification URL, type the user code (unless the
 * URL carries it), confirm, sign in, consent.
 */
export async function approveDevice(page: Page, verificationUri: string, userCode: string, login = 'ada'): Promise<string> {
  await page.goto(verificationUri);
  const codeInput = page.locator('input[name="user_code"]:not([type="hidden"])');
  if (await codeInput.count()) {
    await codeInput.fill(userCode);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }).catch(() => {}), page.click('button[type="submit"]')]);
  }
  // oidc-provider asks to confirm the code (a "Continue" on its confirm page) before signing in.
  const confirm = page.locator('form input[name="confirm"], button[name="confirm"]');
  if (await confirm.count()) {
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }).catch(() => {}), page.click('button[type="submit"]')]);
  }
  await passInteraction(page, login);
  return (await page.textContent('body')) ?? '';
}
