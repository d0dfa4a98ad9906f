package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;

/** A successful answer: a status and a JSON body, a plain-text body, or none. */
record Reply(int status, JsonNode body, String text) {
  static Reply ok(JsonNode body) {
    return new Reply(200, body, null);
  }

  static Reply created(JsonNode body) {
    return new Reply(201, body, null);
  }

  static Reply empty() {
    return new Reply(200, null, null);
  }

  static Reply text(String text) {
    return new Reply(200, null, text);
  }
}
