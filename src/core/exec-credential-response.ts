import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { GenerateTokenResponseSchema } from "../../gen/clustertoken/v1/cluster_token_service_pb.js";
import type { MintedToken } from "../drivers/driver.js";
import { execCredentialKind } from "./exec-credential.js";

/** A GenerateToken response: the ExecCredential of one token. */
export type ExecCredentialResponse = MessageInitShape<typeof GenerateTokenResponseSchema>;

const responses = new WeakMap<MintedToken, Map<string, ExecCredentialResponse>>();

/**
 * The ExecCredential of `minted` in `apiVersion`, built once per token and version
 * and frozen: a token answered from the cache is the same object every time, so its
 * response is too, and a transport may keep the response's encoding for the next call
 * (see `grpc-transport.ts`). The expiry is always the token's own.
 */
export function execCredentialResponse(minted: MintedToken, apiVersion: string): ExecCredentialResponse {
  let byVersion = responses.get(minted);
  if (byVersion === undefined) {
    byVersion = new Map();
    responses.set(minted, byVersion);
  }
  let response = byVersion.get(apiVersion);
  if (response === undefined) {
    const status = Object.freeze({ token: minted.token, expirationTimestamp: timestampFromDate(minted.expiresAt) });
    response = Object.freeze({ apiVersion, kind: execCredentialKind, status });
    byVersion.set(apiVersion, response);
  }
  return response;
}
