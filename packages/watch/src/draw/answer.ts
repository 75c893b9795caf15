/** The body of POST /predict's answer: shared by the server and the page's script, which imports nothing else. */
export interface PredictionAnswer {
  /** The digit 0..9 the model gives. */
  label: number;
  /** Probability of each digit 0..9. */
  probabilities: number[];
  /** The 28×28 image the model saw (784 bytes, row by row, base64), to show it. */
  image: string;
}
