# Reference DeLong (1988) by its definition: psi over all (positive, negative) pairs, O(m*n), no ranks.
import numpy as np
def delong(labels, scores):
    labels = np.asarray(labels); S = [np.asarray(s, float) for s in scores]
    X = [s[labels == 1] for s in S]; Y = [s[labels == 0] for s in S]
    m, n = len(X[0]), len(Y[0])
    V10, V01, A = [], [], []
    for x, y in zip(X, Y):
        psi = (x[:, None] > y[None, :]).astype(float) + 0.5 * (x[:, None] == y[None, :])
        V10.append(psi.mean(axis=1)); V01.append(psi.mean(axis=0)); A.append(psi.mean())
    S10 = np.cov(np.array(V10)); S01 = np.cov(np.array(V01))
    return np.array(A), S10 / m + S01 / n
labels = [1,1,1,1,1,1,1,1,1,1, 0,0,0,0,0,0,0,0,0,0,0,0]
a = [0.9,0.8,0.8,0.7,0.65,0.6,0.55,0.5,0.4,0.3, 0.7,0.6,0.5,0.5,0.45,0.4,0.35,0.3,0.2,0.2,0.1,0.05]
b = [0.95,0.6,0.85,0.5,0.7,0.9,0.3,0.65,0.2,0.55, 0.4,0.8,0.3,0.5,0.1,0.6,0.2,0.45,0.35,0.25,0.15,0.5]
A, C = delong(labels, [a, b])
np.set_printoptions(precision=17)
print("auc", repr(A[0]), repr(A[1]))
print("cov", repr(C[0,0]), repr(C[1,1]), repr(C[0,1]))
z = (A[0]-A[1]) / np.sqrt(C[0,0]+C[1,1]-2*C[0,1])
import math
print("z", repr(z), "p", repr(math.erfc(abs(z)/math.sqrt(2))))
# Hanley & McNeil (1982) CT ratings (1 definitely normal .. 5 definitely abnormal): normal 33,6,6,11,2; abnormal 3,2,2,11,33
hl = [0]*58 + [1]*51
hs = [1]*33+[2]*6+[3]*6+[4]*11+[5]*2 + [1]*3+[2]*2+[3]*2+[4]*11+[5]*33
A2, C2 = delong(hl, [hs])
print("hm auc", repr(A2[0]), "var", repr(C2)), 
