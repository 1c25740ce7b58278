#!/usr/bin/env bash
# calc, described: nested describe/it blocks from lib/spec.sh.
source "$(dirname "$0")/lib/spec.sh"

CALC=${1:-./calc}

describe "calc"
  describe "add"
    it "adds two numbers"
      expect "$("$CALC" add 1 2)" to_be 3
    end
    it "adds a negative number"
      expect "$("$CALC" add 5 -7)" to_be -2
    end
  end

  describe "greet"
    it "greets by name"
      expect "$("$CALC" greet Mo)" to_be "hello, Mo"
    end
  end

  it "prints its version"
    expect "$("$CALC" version)" to_be "calc 1.4.0"
  end
end
