import Tessel
for device in Device.all {
    Device.withDefault(device) {
        let x = Tensor([[1, 2, 3], [4, 5, 6]] as [[Float]])
        print(x)
        print((x * 2 + 1).relu().sum(axis: 1))
        print(x.matmul(x.T))
        print(x.softmax(axis: -1))
        print(x.argmax(axis: 1), x.T.contiguous(), x[.all, 1], x[1..<2])
        print(Tensor.arange(0, 5).oneHot(classes: 5))
        print(Tensor.randn([2, 3]))
    }
}
