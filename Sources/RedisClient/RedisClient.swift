internal import CHiredis
