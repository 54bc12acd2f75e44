// The signed-in user as the API describes them (GET /v1/me): the console
// shows a control only when the user's permissions allow its request, and
// the API refuses the rest anyway.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Me } from "./api";

export type Session = Me & {
  /** Whether the user holds the permission. */
  can: (permission: string) => boolean;
  signOut: () => void;
};

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) {
    throw new Error("useSession outside a signed-in screen");
  }
  return s;
}

/**
 * Whether the user may set sales reps: users who see every customer, and
 * holders of customers:assign (the API's rule, auth.MayAssignReps).
 */
export function mayAssignReps(s: Session): boolean {
  return s.user.visibility === "all" || s.can("customers:assign");
}

export function newSession(me: Me, signOut: () => void): Session {
  const perms = new Set(me.permissions);
  return { ...me, can: (p) => perms.has(p), signOut };
}
