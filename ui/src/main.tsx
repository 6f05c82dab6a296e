import { render } from 'preact';
import { useState } from 'preact/hooks';
import { Link, usePath } from './router';
import { session } from './api';
import { Login } from './pages/login';
import { SandboxList } from './pages/sandboxes';
import { SandboxDetail } from './pages/detail';
import { Activity } from './pages/activity';
import { Templates } from './pages/templates';
import { lazy } from './lazy';

const AgentList = lazy(() => import('./pages/agents').then(m => m.AgentList));
const Runs = lazy<{ id?: string }>(() => import('./pages/runs').then(m => m.Runs));
const Users = lazy(() => import('./pages/users').then(m => m.Users));
const AgentDetail = lazy<{ name: string; tab: string }>(() => import('./pages/agent').then(m => m.AgentDetail));
import './style.css';

function App() {
  const [authed, setAuthed] = useState(!!session.get());
  const path = usePath();
  if (!authed) return <Login onDone={() => setAuthed(true)} />;
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  let page;
  if (parts[0] === 'sandboxes' && parts[1]) page = <SandboxDetail name={parts[1]} tab={parts[2] || 'overview'} />;
  else if (parts[0] === 'agents' && parts[1]) page = <AgentDetail name={parts[1]} tab={parts[2] || 'overview'} />;
  else if (parts[0] === 'agents') page = <AgentList />;
  else if (parts[0] === 'runs') page = <Runs id={parts[1]} />;
  else if (parts[0] === 'users') page = <Users />;
  else if (parts[0] === 'activity') page = <Activity />;
  else if (parts[0] === 'templates') page = <Templates />;
  else page = <SandboxList />;
  const section = parts[0] || 'sandboxes';
  const nav = (to: string, label: string) =>
    <Link to={to} aria-current={section === to ? 'page' : undefined}>{label}</Link>;
  return (
    <>
      <header class="top">
        <span class="brand">Paddock</span>
        <nav aria-label="Main">
          {nav('sandboxes', 'Sandboxes')}
          {nav('agents', 'Agents')}
          {nav('runs', 'Runs')}
          {nav('activity', 'Activity')}
          {nav('templates', 'Templates & pools')}
          {nav('users', 'Users & keys')}
        </nav>
        <button class="link" onClick={() => { session.clear(); setAuthed(false); }}>Log out</button>
      </header>
      <main id="main">{page}</main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
