package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A successful answer: a status and a JSON body, a plain-text body, none, or a stream of JSON
 * documents sent as they come (Docker's /events).
 */
record Reply(int status, JsonNode body, String text, Source<ByteString, ?> stream) {
  static Reply ok(JsonNode body) {
    return new Reply(200, body, null, null);
  }

  static Reply created(JsonNode body) {
    return new Reply(201, body, null, null);
  }

  static Reply empty() {
    return new Reply(200, null, null, null);
  }

  static Reply text(String text) {
    return new Reply(200, null, text, null);
  }

  static Reply stream(Source<ByteString, ?> stream) {
    return new Reply(200, null, null, stream);
  }
}
