import { useState } from 'preact/hooks';
import { login } from '../api';

/** Login asks for an API key, or an email and password (POST /api/token). */
export function Login(props: { onDone: () => void }) {
  const [mode, setMode] = useState<'key' | 'password'>('key');
  const [key, setKey] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [err, setErr] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setErr('');
    try {
      await (mode === 'key' ? login(key.trim()) : login('', email.trim(), password));
      props.onDone();
    } catch (x) {
      setErr((x as Error).message);
    } finally { setBusy(false); }
  };
  return (
    <main class="login">
      <h1>Paddock</h1>
      <form onSubmit={submit} aria-describedby={err ? 'login-err' : undefined}>
        <div role="tablist" class="tabs">
          <button type="button" role="tab" aria-selected={mode === 'key'} onClick={() => setMode('key')}>API key</button>
          <button type="button" role="tab" aria-selected={mode === 'password'} onClick={() => setMode('password')}>Email and password</button>
        </div>
        {mode === 'key' ? (
          <label>API key
            <input id="key" type="password" autocomplete="off" required value={key}
              onInput={e => setKey((e.target as HTMLInputElement).value)} />
          </label>
        ) : (
          <>
            <label>Email<input id="email" type="email" autocomplete="username" required value={email}
              onInput={e => setEmail((e.target as HTMLInputElement).value)} /></label>
            <label>Password<input id="password" type="password" autocomplete="current-password" required value={password}
              onInput={e => setPassword((e.target as HTMLInputElement).value)} /></label>
          </>
        )}
        <button type="submit" disabled={busy}>Log in</button>
        {err && <p id="login-err" class="error" role="alert">{err}</p>}
        <p class="hint">The key is kept in this tab only (sessionStorage) and sent as a header.</p>
      </form>
    </main>
  );
}
