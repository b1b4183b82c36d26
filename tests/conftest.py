import sys
from pathlib import Path

# Make tests/ helpers importable as plain modules (splitting, vectors...).
sys.path.insert(0, str(Path(__file__).parent))
