package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;

/** A successful answer: a status and a JSON body (or none). */
record Reply(int status, JsonNode body) {
  static Reply ok(JsonNode body) {
    return new Reply(200, body);
  }

  static Reply empty() {
    return new Reply(200, null);
  }
}
