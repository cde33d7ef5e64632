"""A small PMML 4.4 evaluator for the documents ml.export_model writes.

Written for test/reference/check_export.py from the PMML 4.4 specification's
descriptions of the elements pg_mlops emits, and only those: DataDictionary
(continuous double and dateTimeSecondsSince[1970] fields, categorical string
fields with or without Value lists), MiningSchema (missingValueReplacement,
missingValueTreatment="returnInvalid", invalidValueTreatment="asMissing"),
TransformationDictionary (DerivedField with NormDiscrete), Output
(predictedValue and probability), RegressionModel (regression; classification
with normalizationMethod logit or softmax), ClusteringModel (squaredEuclidean
over absDiff fields), TreeModel (True and SimplePredicate lessThan /
greaterOrEqual, missingValueStrategy="defaultChild", leaf score and
ScoreDistribution probabilities), MiningModel (Segmentation sum, average and
modelChain of segments whose predicate is True) and NaiveBayesModel
(GaussianDistribution and PairCounts inputs, BayesOutput counts, threshold).
Anything else raises Unsupported, so a document using more than this is not
silently misread.  Naive Bayes is computed in log space (no underflow); the
rest in plain double arithmetic in document order.

It is independent of the extension's C code: the numbers come from the XML
text only, parsed with float().
"""
import datetime
import math
import xml.etree.ElementTree as ET

NS = "{http://www.dmg.org/PMML-4_4}"
MODELS = ("RegressionModel", "ClusteringModel", "TreeModel", "MiningModel", "NaiveBayesModel")
EPOCH = datetime.date(1970, 1, 1)


class Unsupported(Exception):
    """The document uses an element or attribute this evaluator does not implement."""


class Invalid(Exception):
    """PMML's invalid result (returnInvalid)."""


def _tag(el):
    return el.tag[len(NS):] if el.tag.startswith(NS) else el.tag


def _kids(el, name=None):
    return [c for c in el if name is None or _tag(c) == name]


def _kid(el, name):
    found = _kids(el, name)
    return found[0] if found else None


def _model_of(el):
    found = [c for c in el if _tag(c) in MODELS]
    if len(found) != 1:
        raise Unsupported(f"expected one model element in {_tag(el)}")
    return found[0]


def _argmax(proba):
    """The first label (in document order) with the highest probability."""
    best = None
    for label, p in proba.items():
        if best is None or p > proba[best]:
            best = label
    return best


class Result:
    """value: a number (regression, clustering) or a label; proba: label -> probability."""

    def __init__(self, value, proba=None):
        self.value = value
        self.proba = proba


class Document:
    def __init__(self, text):
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
        if _tag(root) != "PMML" or root.get("version") != "4.4":
            raise Unsupported("not a PMML 4.4 document")
        self.fields = {}
        for f in _kids(_kid(root, "DataDictionary"), "DataField"):
            values = [v.get("value") for v in _kids(f, "Value")]
            if any(v.get("property", "valid") != "valid" for v in _kids(f, "Value")):
                raise Unsupported("Value property other than valid")
            self.fields[f.get("name")] = (f.get("optype"), f.get("dataType"), values or None)
        self.derived = {}
        td = _kid(root, "TransformationDictionary")
        for d in _kids(td, "DerivedField") if td is not None else []:
            self.derived[d.get("name")] = d
        self.model = _model_of(root)

    # ---------- fields ----------

    def _prepare(self, raw):
        """Field values from raw column values (None: missing) by the top model's MiningSchema."""
        env = {}
        for mf in _kids(_kid(self.model, "MiningSchema"), "MiningField"):
            name = mf.get("name")
            if mf.get("usageType", "active") != "active":
                continue
            optype, dtype, values = self.fields[name]
            v = raw.get(name)
            if v is not None:
                if dtype == "double":
                    v = float(v)
                elif dtype == "string":
                    v = str(v)
                elif dtype == "dateTimeSecondsSince[1970]":
                    v = float((v - EPOCH).days * 86400) if isinstance(v, datetime.date) else float(v)
                else:
                    raise Unsupported(f"dataType {dtype}")
                if values is not None and v not in values:
                    treatment = mf.get("invalidValueTreatment", "returnInvalid")
                    if treatment == "asMissing":
                        v = None
                    elif treatment == "returnInvalid":
                        raise Invalid(f"{name} = {v!r}")
                    else:
                        raise Unsupported(f"invalidValueTreatment {treatment}")
            if v is None:
                if mf.get("missingValueReplacement") is not None:
                    v = float(mf.get("missingValueReplacement")) if dtype != "string" else mf.get("missingValueReplacement")
                elif mf.get("missingValueTreatment") == "returnInvalid":
                    raise Invalid(f"{name} is missing")
            env[name] = v
        return env

    def _value(self, name, env):
        if name in env:
            return env[name]
        d = self.derived.get(name)
        if d is None:
            raise Unsupported(f"unknown field {name}")
        nd = _kid(d, "NormDiscrete")
        if nd is None or len(list(d)) != 1:
            raise Unsupported(f"derived field {name} is not one NormDiscrete")
        v = self._value(nd.get("field"), env)
        if v is None:
            m = nd.get("mapMissingTo")
            out = None if m is None else float(m)
        else:
            out = 1.0 if v == nd.get("value") else 0.0
        env[name] = out
        return out

    # ---------- models ----------

    def evaluate(self, raw):
        """Result of the top model for raw column values (dates as datetime.date), or None when invalid."""
        try:
            env = self._prepare(raw)
            return self._model(self.model, env)
        except Invalid:
            return None

    def outputs(self, raw):
        """The top model's OutputFields: name -> value (None when invalid)."""
        r = self.evaluate(raw)
        out = {}
        o = _kid(self.model, "Output")
        for f in _kids(o, "OutputField") if o is not None else []:
            out[f.get("name")] = None if r is None else self._output(f, r)
        return out

    def _output(self, f, r):
        feature = f.get("feature", "predictedValue")
        if feature == "predictedValue":
            return r.value
        if feature == "probability":
            return r.proba.get(f.get("value")) if r.proba is not None else None
        raise Unsupported(f"OutputField feature {feature}")

    def _model(self, m, env):
        kind = _tag(m)
        if kind == "RegressionModel":
            r = self._regression(m, env)
        elif kind == "ClusteringModel":
            r = self._clustering(m, env)
        elif kind == "TreeModel":
            r = self._tree(m, env)
        elif kind == "MiningModel":
            r = self._mining(m, env)
        elif kind == "NaiveBayesModel":
            r = self._naive_bayes(m, env)
        else:
            raise Unsupported(kind)
        # a nested model's output fields become fields for the models after it
        o = _kid(m, "Output")
        if r is not None and o is not None and m is not self.model:
            for f in _kids(o, "OutputField"):
                env[f.get("name")] = self._output(f, r)
        return r

    def _regression(self, m, env):
        ys = []
        for t in _kids(m, "RegressionTable"):
            y = float(t.get("intercept"))
            for p in _kids(t):
                if _tag(p) != "NumericPredictor":
                    raise Unsupported(_tag(p))
                x = self._value(p.get("name"), env)
                if x is None:
                    raise Invalid(p.get("name"))
                e = int(p.get("exponent", "1"))
                y += float(p.get("coefficient")) * (x if e == 1 else x ** e)
            ys.append((t.get("targetCategory"), y))
        method = m.get("normalizationMethod", "none")
        if m.get("functionName") == "regression":
            if method != "none" or len(ys) != 1:
                raise Unsupported("regression normalization")
            return Result(ys[0][1])
        if method == "softmax":
            mx = max(y for _, y in ys)
            e = [(c, math.exp(y - mx)) for c, y in ys]
            s = sum(v for _, v in e)
            proba = {c: v / s for c, v in e}
        elif method == "logit":
            proba = {c: 1 / (1 + math.exp(-y)) for c, y in ys[:-1]}
            proba[ys[-1][0]] = 1 - sum(proba.values())
        else:
            raise Unsupported(f"normalizationMethod {method}")
        return Result(_argmax(proba), proba)

    def _clustering(self, m, env):
        cm = _kid(_kid(m, "ComparisonMeasure"), "squaredEuclidean")
        if cm is None:
            raise Unsupported("comparison measure")
        fields = []
        for cf in _kids(m, "ClusteringField"):
            if cf.get("compareFunction", "absDiff") != "absDiff":
                raise Unsupported("compareFunction")
            fields.append(self._value(cf.get("field"), env))
        if any(x is None for x in fields):
            raise Invalid("missing clustering field")
        best, best_d = None, None
        for c in _kids(m, "Cluster"):
            center = [float(v) for v in _kid(c, "Array").text.split()]
            d = 0.0
            for x, y in zip(fields, center):
                t = abs(x - y)
                d += t * t
            if best_d is None or d < best_d:
                best, best_d = c.get("id"), d
        return Result(float(best))

    def _predicate(self, p, env):
        """True, False or None (UNKNOWN)."""
        kind = _tag(p)
        if kind == "True":
            return True
        if kind == "SimplePredicate":
            x = self._value(p.get("field"), env)
            if x is None:
                return None
            v = float(p.get("value"))
            op = p.get("operator")
            if op == "lessThan":
                return x < v
            if op == "greaterOrEqual":
                return x >= v
            raise Unsupported(f"operator {op}")
        raise Unsupported(f"predicate {kind}")

    def _tree(self, m, env):
        node = _kid(m, "Node")
        if _kids(node, "Node") and m.get("missingValueStrategy") != "defaultChild":
            raise Unsupported("missingValueStrategy")
        if self._predicate(node[0], env) is not True:
            raise Unsupported("root predicate")
        while True:
            children = _kids(node, "Node")
            if not children:
                break
            nxt = None
            for c in children:
                ok = self._predicate(c[0], env)
                if ok is None:
                    nxt = next(x for x in children if x.get("id") == node.get("defaultChild"))
                    break
                if ok:
                    nxt = c
                    break
            if nxt is None:
                return None                 # noTrueChildStrategy="returnNullPrediction"
            node = nxt
        if m.get("functionName") == "regression":
            return Result(float(node.get("score")))
        dist = _kids(node, "ScoreDistribution")
        if any(d.get("probability") is None for d in dist):
            total = sum(float(d.get("recordCount")) for d in dist)
            proba = {d.get("value"): float(d.get("recordCount")) / total for d in dist}
        else:
            proba = {d.get("value"): float(d.get("probability")) for d in dist}
        return Result(node.get("score"), proba)

    def _mining(self, m, env):
        seg = _kid(m, "Segmentation")
        method = seg.get("multipleModelMethod")
        results = []
        for s in _kids(seg, "Segment"):
            if self._predicate(s[0], env) is not True:
                raise Unsupported("segment predicate")
            r = self._model(_model_of(s), env)
            if r is None:
                return None
            results.append(r)
        if method == "modelChain":
            return results[-1]
        if m.get("functionName") == "regression":
            total = 0.0
            for r in results:
                total += r.value
            if method == "sum":
                return Result(total)
            if method == "average":
                return Result(total / len(results))
            raise Unsupported(f"multipleModelMethod {method}")
        if method == "average":
            proba = {}
            for r in results:
                for c, p in r.proba.items():
                    proba[c] = proba.get(c, 0.0) + p
            proba = {c: p / len(results) for c, p in proba.items()}
            return Result(_argmax(proba), proba)
        raise Unsupported(f"multipleModelMethod {method} for classification")

    def _naive_bayes(self, m, env):
        log_t = math.log(float(m.get("threshold")))
        counts = {t.get("value"): float(t.get("count"))
                  for t in _kids(_kid(_kid(m, "BayesOutput"), "TargetValueCounts"), "TargetValueCount")}
        score = {c: math.log(n) for c, n in counts.items()}
        for bi in _kids(_kid(m, "BayesInputs"), "BayesInput"):
            x = self._value(bi.get("fieldName"), env)
            if x is None:
                continue                    # a missing input is left out
            stats = _kid(bi, "TargetValueStats")
            if stats is not None:
                for s in _kids(stats, "TargetValueStat"):
                    g = _kid(s, "GaussianDistribution")
                    if g is None:
                        raise Unsupported("distribution")
                    mean, var = float(g.get("mean")), float(g.get("variance"))
                    lp = -0.5 * math.log(2 * math.pi * var) - 0.5 * (x - mean) ** 2 / var
                    score[s.get("value")] += max(lp, log_t)
                continue
            # P(value | class) = count(value, class) / sum of the class's counts over the input's values
            denom = {c: 0.0 for c in counts}
            match = None
            for pc in _kids(bi, "PairCounts"):
                tvc = {t.get("value"): float(t.get("count")) for t in _kids(_kid(pc, "TargetValueCounts"), "TargetValueCount")}
                for c, n in tvc.items():
                    denom[c] += n
                if pc.get("value") == x:
                    match = tvc
            for c in counts:
                n = match.get(c, 0.0) if match is not None else 0.0
                score[c] += max(math.log(n / denom[c]), log_t) if n > 0 else log_t
        mx = max(score.values())
        e = {c: math.exp(v - mx) for c, v in score.items()}
        s = sum(e.values())
        proba = {c: v / s for c, v in e.items()}
        return Result(_argmax(proba), proba)


def bayes_denominators(text):
    """For each categorical BayesInput: per class, (sum of its PairCounts, BayesOutput count)."""
    doc = Document(text)
    m = doc.model
    counts = {t.get("value"): float(t.get("count"))
              for t in _kids(_kid(_kid(m, "BayesOutput"), "TargetValueCounts"), "TargetValueCount")}
    out = {}
    for bi in _kids(_kid(m, "BayesInputs"), "BayesInput"):
        if _kid(bi, "PairCounts") is None:
            continue
        sums = {c: 0.0 for c in counts}
        for pc in _kids(bi, "PairCounts"):
            for t in _kids(_kid(pc, "TargetValueCounts"), "TargetValueCount"):
                sums[t.get("value")] += float(t.get("count"))
        out[bi.get("fieldName")] = {c: (sums[c], counts[c]) for c in counts}
    return out
