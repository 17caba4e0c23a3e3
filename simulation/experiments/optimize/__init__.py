"""Many-objective search over the mechanism levers: `python run.py optimize`.

- archive.py: ε-box dominance archive and merge (Laumanns et al. 2002; Kollat & Reed 2006);
- search.py: several seeded NSGA-II searches (pymoo, ask-and-tell) with an ε-archive each,
  evaluated through an injected evaluator, merged by ε-nondominance; hypervolume and
  ε-progress per generation;
- driver.py: the poverty model as evaluator (common random numbers, shared histories, our
  executors), the resumable folder and its files.
"""
