import { type IncomingHttpHeaders } from "node:http";
import { Role, type Viewer } from "./context";

/**
 * Who is asking. Until API keys land every request is served as the DCC operator.
 * (Replaced by key look-up in the access-control work.)
 */
export async function resolveViewer(_headers: IncomingHttpHeaders): Promise<Viewer> {
  return { role: Role.DCC, party: null, keyId: null };
}
