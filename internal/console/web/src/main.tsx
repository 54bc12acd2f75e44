// The console's entry: sign-in, the signed-in frame (navigation, user,
// sign-out) and the screen for the current address.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, hasToken, must, onSignedOut, setToken } from "./api";
import { m } from "./messages";
import { CustomerPage } from "./pages/customer";
import { CustomerList } from "./pages/customers";
import { screens } from "./pages/registry";
import { match, navigate, useLocation } from "./router";
import { type Session, SessionContext, newSession } from "./session";
import { Loading, ProblemView, TextInput, asApiError, Link } from "./ui";
import type { ApiError } from "./api";
import "./style.css";

function Login({ onSignedIn }: { onSignedIn: () => void }) {
  const [tenant, setTenant] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="login">
      <h1>{m.app.name}</h1>
      <form
        aria-label={m.login.title}
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const out = await must(api.POST("/v1/auth/login", { body: { tenant, email, password } }));
            setToken(out.token);
            onSignedIn();
          } catch (err) {
            setError(asApiError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <h2>{m.login.title}</h2>
        <TextInput label={m.login.tenant} name="tenant" value={tenant} onInput={setTenant} required autoComplete="organization" error={error?.field("tenant")} />
        <TextInput label={m.login.email} name="email" type="email" value={email} onInput={setEmail} required autoComplete="username" error={error?.field("email")} />
        <TextInput label={m.login.password} name="password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" error={error?.field("password")} />
        {error && !error.problem.errors?.length ? <ProblemView error={error} /> : null}
        <button type="submit" class="primary" disabled={busy}>
          {m.login.submit}
        </button>
      </form>
    </main>
  );
}

function Frame({ session, path, query }: { session: Session; path: string; query: URLSearchParams }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const nav = screens.filter((s) => s.nav && (!s.permission || session.can(s.permission)));
  let body;
  let params: Record<string, string> | null;
  if (path === "/" || path === "/customers") {
    body = <CustomerList query={query} />;
  } else if ((params = match("/customers/:id", path))) {
    body = <CustomerPage id={params.id!} />;
  } else {
    const screen = screens.find((s) => match(s.path, path));
    if (screen) {
      const p = match(screen.path, path)!;
      body = screen.render(p, query);
    } else {
      body = <p class="problem" role="alert">{m.app.notFound}</p>;
    }
  }
  return (
    <div class="frame">
      <a class="skip" href="#main">
        {m.app.skipToContent}
      </a>
      <header class="top">
        <button type="button" class="menu" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          {m.app.menu}
        </button>
        <span class="brand">{m.app.name}</span>
        <span class="tenant">{session.tenant.name}</span>
        <span class="user" data-testid="signed-in-user">
          {m.app.signedInAs(session.user.name, session.user.role)}
        </span>
        <button type="button" onClick={session.signOut}>
          {m.app.signOut}
        </button>
      </header>
      <nav id="nav" class={menuOpen ? "side open" : "side"} aria-label={m.app.menu} onClick={() => setMenuOpen(false)}>
        <ul>
          <li>
            <Link href="/customers" aria-current={path === "/" || path.startsWith("/customers") ? "page" : undefined}>
              {m.nav.customers}
            </Link>
          </li>
          {nav.map((s) => (
            <li key={s.path}>
              <Link href={s.path} aria-current={path.startsWith(s.path) ? "page" : undefined}>
                {s.nav}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </div>
  );
}

function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<ApiError>();
  const [signedIn, setSignedIn] = useState(hasToken());

  useEffect(() => onSignedOut(() => {
    setSession(null);
    setSignedIn(false);
  }), []);

  useEffect(() => {
    if (!signedIn) {
      return;
    }
    setError(undefined);
    must(api.GET("/v1/me")).then(
      (me) =>
        setSession(
          newSession(me, async () => {
            // Revoke the token on the server first: a copy of it must
            // not outlive the sign-out.
            try {
              await api.POST("/v1/auth/logout");
            } finally {
              setToken(null);
              setSession(null);
              setSignedIn(false);
              navigate("/", true);
            }
          }),
        ),
      (err: unknown) => setError(asApiError(err)),
    );
  }, [signedIn]);

  if (!signedIn) {
    return <Login onSignedIn={() => setSignedIn(true)} />;
  }
  if (error) {
    return (
      <main id="main">
        <ProblemView error={error} />
      </main>
    );
  }
  if (!session) {
    return <Loading />;
  }
  return (
    <SessionContext.Provider value={session}>
      <Frame session={session} path={path} query={query} />
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("root")!);
