#!/usr/bin/env bash
# wc, described: nested describe/it blocks from lib/spec.sh.
source "$(dirname "$0")/lib/spec.sh"

describe "wc"
  describe "-l"
    it "counts lines"
      expect "$(printf 'a\nb\n' | wc -l)" to_be 2
    end
    it "counts no lines in empty input"
      expect "$(wc -l < /dev/null)" to_be 0
    end
  end

  describe "-w"
    it "counts words"
      expect "$(echo one two three | wc -w)" to_be 3
    end
    it "counts words across lines"
      expect "$(printf 'a b\nc\n' | wc -w)" to_be 3
    end
  end

  it "counts bytes"
    expect "$(printf abc | wc -c)" to_be 3
  end
end
