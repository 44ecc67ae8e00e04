"""The simulation core: one run of one scenario for one design.

Everything that decides a run's numbers lives here, and nothing else does:
the run cache keys finished runs by a hash of this package's sources (and
the costs), so editing the experiment machinery or the presentation around
it never throws a cached run away.  Inputs come from outside (model.scenario,
model.params, model.calibration's Costs).
"""
