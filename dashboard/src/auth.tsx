import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from "react";
import { api, ApiError, setCsrfToken, type User } from "./api";

interface Session {
  user: User | null;
  needsSetup: boolean;
  loading: boolean;
  signIn: (email: string, password: string, setup: boolean) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [needsSetup, setNeedsSetup] = useState(false);
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    api<{ user: User; csrf_token: string }>("/api/auth/session")
      .then((session) => {
        setCsrfToken(session.csrf_token);
        setUser(session.user);
      })
      .catch((error) => {
        if (error instanceof ApiError && error.status === 401) setNeedsSetup(Boolean(error.body.needs_setup));
      })
      .finally(() => setLoading(false));
  }, []);

  const signIn = useCallback(async (email: string, password: string, setup: boolean) => {
    const session = await api<{ user: User; csrf_token: string }>(setup ? "/api/auth/setup" : "/api/auth/login", {
      method: "POST",
      json: { email, password },
    });
    setCsrfToken(session.csrf_token);
    setNeedsSetup(false);
    setUser(session.user);
  }, []);

  const signOut = useCallback(async () => {
    await api("/api/auth/logout", { method: "POST" });
    setUser(null);
  }, []);

  return (
    <SessionContext.Provider value={{ user, needsSetup, loading, signIn, signOut }}>{children}</SessionContext.Provider>
  );
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
